"""nbgrader configuration of the course: directories, limits and the pipelines' preprocessors."""

import os

from nbgrader.preprocessors import (
    AssignLatePenalties, CheckCellMetadata, ClearHiddenTests, ClearMarkScheme, ClearOutput,
    ComputeChecksums, GetGrades, IgnorePattern, IncludeHeaderFooter, InstantiateTests,
    LimitOutput, LockCells, SaveAutoGrades, SaveCells)
from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor

from nnlib.course.formgrader import NBGRADER_TEMPLATES, TEMPLATES
from nnlib.course.preprocessors import (
    FeedbackExporter, GuardedExecute, NamedClearSolutions, NormalizeOutputs, OfflineMath, ShortenFeedback,
    StripHiddenTests)

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "nnlib-course"
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.solution_directory = "solutions"

# Student code: each cell gets at most this many seconds, then it is interrupted (an error output)
# and the notebook goes on.
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True
# Once the last cell has run, the kernel is killed instead of asked to exit: its state is thrown
# away anyway, and a polite exit (ipykernel's shutdown, torch's teardown) costs about 0.7 s per
# notebook.
c.Execute.shutdown_kernel = "immediate"

c.ClearSolutions.code_stub = {
    "python": '# YOUR CODE HERE\nraise NotImplementedError("{exercise}: not done yet; replace this line with your code")'
}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

c.GenerateAssignment.preprocessors = [
    IncludeHeaderFooter, InstantiateTests, LockCells, NamedClearSolutions, ClearOutput,
    CheckCellMetadata, ComputeChecksums, SaveCells, ClearHiddenTests, ClearMarkScheme,
    ComputeChecksums, CheckCellMetadata,
]
c.GenerateSolution.preprocessors = [
    IncludeHeaderFooter, LockCells, ClearOutput, ClearMarkScheme, StripHiddenTests, GuardedExecute,
    NormalizeOutputs,
]
# nbgrader's autograde steps, with Execute replaced by one that can leave out a cell that killed
# the kernel (course grade then grades the rest of the notebook; see GuardedExecute). Both
# pipelines use GuardedExecute for its kernel client (nnlib.course.client).
c.Autograde.autograde_preprocessors = [
    GuardedExecute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput, SaveAutoGrades,
    AssignLatePenalties, CheckCellMetadata,
]
c.GenerateFeedback.preprocessors = [GetGrades, ShortenFeedback, CSSHTMLHeaderPreprocessor]
c.GenerateFeedback.exporter_class = FeedbackExporter   # an HTMLExporter compiling its templates once
# Every HTML page made from a notebook (the feedback files, formgrader's grading pages) carries
# its formulas as MathML, which browsers draw offline; MathJax from a CDN is not needed.
c.HTMLExporter.preprocessors = [OfflineMath]
# formgrader's grading page typesets them with MathJax from the Jupyter server (jupyter-server-mathjax)
# instead of a CDN: the course's formgrade template (nnlib/course/templates) comes first and extends
# nbgrader's, which extra_template_paths makes reachable. nbgrader's feedback template is found
# as before (its own extra_template_paths are set by nbgrader's GenerateFeedback).
c.HTMLExporter.extra_template_basedirs = [TEMPLATES, NBGRADER_TEMPLATES]
c.HTMLExporter.extra_template_paths = [NBGRADER_TEMPLATES]

# A warning printed on stderr inside a test cell would make nbgrader score the cell zero.
# Warnings are library noise, not a wrong answer: drop stderr chunks that are only warnings.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"^(?:(?:[^\n]*(?:Warning|warn)[^\n]*|[ \t][^\n]*)(?:\n|$))+$"
