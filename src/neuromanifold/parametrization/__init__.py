"""The parametrization mu: parameters -> functions, as values at generic inputs (``evaluation``: mu_S in
any number system) and as exact integer coefficients in the monomial basis (``coefficients``)."""
