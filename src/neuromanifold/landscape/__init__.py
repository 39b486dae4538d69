"""The loss landscape over a neuromanifold: critical points of a quadratic loss and their real types
(``critical_points``), discriminants of the data where the types change (``discriminant``), Voronoi
cells of strata (``voronoi``), where gradient descent ends (``implicit_bias``), and the pictures for
real plane curves (``plane_curves``).  Built on ``invariants.critical_system``."""
