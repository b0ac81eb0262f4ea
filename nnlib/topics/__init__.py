"""One module per assignment: its data, measurements and training runs, figures and demos.

`nnlib.topics.<topic>` belongs to assignment `aN_<topic>` alone; its notebook imports it as
`from nnlib.topics import <topic> as topic`, beside its checks (`nnlib.checks.<topic>`) and its
answer key (`nnlib.answers.<topic>`). What two assignments use lives in nnlib's shared modules
(`data`, `plots`, `widgets`, `models`, `optim`, ...), which never import a topic.
"""
