"""The one output path: everything the toolkit computes is turned into text, markdown, HTML or figures here.

``text`` (analysis Reports, torch-module reports, membership, the architecture families), ``html`` (the
one-page report), ``landscape`` (critical points, Voronoi masses, implicit bias, critical-point maps),
``slices`` (plane and 3-space slices), ``atlas`` (stored rows, sweeps, the equivariant comparison),
``markdown`` (pipe tables of the experiment reports), ``notebook`` (the full HTML of the result types in Jupyter,
registered with IPython by ``import neuromanifold``), ``plots`` (every figure).
"""
