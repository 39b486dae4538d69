"""Slices of a neuromanifold that is a hypersurface in its span: the slice curve (a plane) or the
slice surface (a 3-space), their singular points / singular curve, and where the real slice
leaves the (semialgebraic) real neuromanifold M_R = mu(R^N).

1. Coordinates: D coefficients of the network function; M spans a linear space of dimension e.
   We keep e coefficient coordinates on which the span projects injectively (exact row reduction).
2. Implicit equation: when dim M = e - 1, the Zariski closure of M is {F = 0} for one polynomial F;
   M is a cone (scaling the last layer), so F is a form.  Its coefficients are the nullspace, over Q
   and exactly (python-flint), of the monomials of degree deg F evaluated at images of random integer
   parameters.  deg F is the degree of M (the witness-set invariant), checked: the nullspace of degree
   deg F has dimension one and lower degrees have none.
3. ``plane_slice``: a plane y(s, t) = y0 + s a + t b through a point y0 of M with random integer
   directions; the curve f(s, t) = F(y(s, t)) = 0, its singular points (f = f_s = f_t = 0; homotopy
   continuation) and its real points along lines t = const (roots of a univariate polynomial).
   ``surface_slice``: a 3-space y(s, t, w) = y0 + s a + t b + w c; the surface f(s, t, w) = 0 and
   its singular curve Sing(H) n slice = {grad F = 0} (level by level w = const: homotopy
   continuation on f_s = f_t = 0, kept where the whole gradient of F vanishes).
4. Membership in M_R (M is only semialgebraic): a real preimage is searched by nonlinear least
   squares from warm and random real starts; residual below ``tol`` means in M_R (certain up to the
   tolerance), none found means "not found" (numerical).
5. Boundary points: where neighbouring points of one branch (of the plane curve, or of the singular
   curve of the surface) change membership, the not-in-M end is searched again (longer), then the
   point is refined by bisection along the branch (the midpoint of the bracket is moved back onto
   the curve normal to the chord; membership by continuation of the in-side preimage) until the
   bracket is narrower than ``boundary_tol`` (1 + |p|).  The topological boundary of M_R inside the
   real hypersurface is contained in the critical values of mu (images of real parameters where
   rank d mu < dim M) together with the limits of mu(theta) with |theta| -> infinity.  Approaching
   a boundary point from inside M_R at distances h shrinking 4x per step, the preimage is continued;
   at each step the best sigma_dim/sigma_1 of d mu over the fiber (local ascent along the fiber;
   a fiber can contain critical strata, so one preimage is not enough) and the minimum preimage
   norm over the fiber are recorded.  A diverging norm labels the point "at infinity", a ratio
   tending to 0 (as a power of h) at a settled norm "critical value", anything else "undecided".
   Near a boundary at infinity the preimages are ill-conditioned and "not found" is least
   reliable: the true boundary can lie beyond the bracket on the not-in-M side (for
   mlp(widths=(2,2,1), r=4), checked against Sylvester's real-rank criterion: within ~3e-5 for
   brackets of ~2e-6).

For ``attention(d=2, dout=1, a=2, t=2)`` the map is bilinear, (V, K^T Q) -> the pair of binary
quadratics (v0 + v1 u)(r1 + r2 u): M is the resultant hypersurface of two binary quadratics (degree
4), its real points outside M_R are the proportional pairs (l1 g, l2 g) with g irreducible over R (a
4-dimensional set, inside the double locus), so a generic *plane* slice leaves M_R only at isolated
singular points (acnodes); the boundary shows on the singular curve of a *surface* slice (a slice
with a 2-dimensional M-part, as in the seed talk): Whitney-umbrella pinch points, critical values.

Modules: ``implicit`` (step 2), ``real_fiber`` (step 4: preimages, minimum norm, conditioning),
``affine`` (the slice y0 + D p and membership of its points), ``boundary`` (step 5), ``plane`` and
``surface`` (step 3).
"""

from .boundary import LABELS, BoundaryPoint
from .plane import PlaneSlice, plane_slice
from .surface import SurfaceSlice, surface_slice

__all__ = ["plane_slice", "surface_slice", "PlaneSlice", "SurfaceSlice", "BoundaryPoint", "LABELS"]
