"""What a grading kernel finds where nnlib.answers (the answer key) is: nnlib.course.sandbox
mounts this folder over it, so `import nnlib.answers` fails with the reason."""

from nnlib.reference import SEALED_MESSAGE

raise ImportError(SEALED_MESSAGE)
