"""Hidden symmetries as polynomial vector fields in the kernel of d mu: dimension's upper-bound certificate.

A *kernel field* is a polynomial vector field v on parameter space with

    d mu(theta) . v(theta) = sum_k v_k(theta) d f_theta / d theta_k = 0   in Z[theta, x],

i.e. an infinitesimal symmetry of the network function.  Its value at every point lies in the
tangent space of the fiber, so for known generators G and verified fields V (columns)

    rank_p [G | V](theta_p) <= rank_Q [G | V](theta_p) <= generic rank [G | V]
                            <= dim ker d mu(generic) = N - dim M,

which turns the rank mod p at one integer point into a rigorous upper bound
dim M <= N - rank_p [G | V](theta_p).

* ``fields``: the polynomial fields and the outcome of a search (evidence).
* ``search``: the heuristic search mod p and the certificate (``certify_with_kernel_fields``); its limits
  (MAX_DEGREE, SEARCH_BUDGET, and the TERM_LIMIT, VERIFY_BUDGET it passes to the verifier) are read there.
* ``verification``: the exact identity check; only verified fields enter the certificate.
"""

from .fields import KernelFields, PolynomialField
from .search import certify_with_kernel_fields
from .verification import SymbolicVerifier, VerificationTooLarge

__all__ = ["KernelFields", "PolynomialField", "SymbolicVerifier", "VerificationTooLarge", "certify_with_kernel_fields"]
