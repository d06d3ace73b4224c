"""Correlations of the 2CLJQ VLE (bayesff.observables.eos.two_centre_correlations).

Reference data, each test says which it uses:

- J. Stoll, J. Vrabec, H. Hasse and J. Fischer, Fluid Phase Equilib. 179,
  339-362 (2001), doi:10.1016/S0378-3812(00)00506-9: Table 2 (critical data of
  the 30 simulated fluids) and Table 1 (simulated VLE; the points at about 0.80
  T*c with their uncertainties in the last digits), transcribed below.
- S. Werth, M. Horsch and H. Hasse, Fluid Phase Equilib. 392, 12-18 (2015),
  doi:10.1016/j.fluid.2015.02.003: Table 2 (120 simulated surface tensions and
  saturated liquid densities, uncertainties = 3 standard deviations), below.
- J. J. Potoff and A. Z. Panagiotopoulos, J. Chem. Phys. 109, 10914 (1998): the
  LJ critical point T*c = 1.3120(7), rho*c = 0.316(1).
- The LJ EOS of M. Thol et al., J. Phys. Chem. Ref. Data 45, 023101 (2016), as
  implemented by teqp 0.23.2 ("LJ126_TholJPCRD2016").
- The values and gradients printed in the tests of Madin et al.'s code
  (SimonBoothroyd/bayesiantesting, bayesiantesting/tests/surrogates/
  test_surrogates.py at commit d9602eb23c74884e6cc53b0c8533b65f7b315278).
"""

from __future__ import annotations

import jax
import numpy as np
import pytest

from bayesff.observables.eos import two_centre_correlations as corr

# Stoll et al. (2001), Table 2: T*c and rho*c; rows Q*^2 = 0..4, columns L* below.
_L_TABLE2 = (0.0, 0.2, 0.4, 0.505, 0.6, 0.8)
_TC_TABLE2 = (
    (5.236, 4.313, 3.163, 2.735, 2.454, 2.049),
    (5.312, 4.388, 3.195, 2.771, 2.499, 2.097),
    (5.575, 4.554, 3.316, 2.875, 2.580, 2.160),
    (5.968, 4.807, 3.489, 3.007, 2.695, 2.266),
    (6.398, 5.143, 3.692, 3.195, 2.866, 2.408),
)
_RHOC_TABLE2 = (
    (0.3143, 0.2740, 0.2251, 0.2032, 0.1850, 0.1577),
    (0.3169, 0.2796, 0.2259, 0.2036, 0.1863, 0.1619),
    (0.3197, 0.2832, 0.2256, 0.2090, 0.1888, 0.1652),
    (0.3303, 0.2880, 0.2309, 0.2097, 0.1940, 0.1680),
    (0.3395, 0.2908, 0.2358, 0.2143, 0.1960, 0.1710),
)

# Stoll et al. (2001), Table 1, the middle temperature (about 0.80 T*c) of each
# fluid: L*, Q*^2, T*, p*, u(p*), rho'*, u(rho'*), rho''*, u(rho''*).
_STOLL_080 = """
0     0  4.256   0.1469   0.0014   0.66404  0.00055  0.04347  0.00053
0     1  4.32    0.1472   0.0013   0.67461  0.00058  0.04239  0.00062
0     2  4.496   0.1417   0.0017   0.69986  0.00061  0.03877  0.00086
0     3  4.752   0.1352   0.0016   0.73335  0.00052  0.03653  0.00067
0     4  5.056   0.1202   0.0023   0.77053  0.00046  0.026    0.0019
0.2   0  3.52    0.1092   0.0011   0.58419  0.00052  0.0385   0.00056
0.2   1  3.576   0.1092   0.0012   0.58928  0.0005   0.03927  0.0008
0.2   2  3.712   0.1062   0.0012   0.60533  0.00059  0.0358   0.00038
0.2   3  3.912   0.1081   0.0016   0.62931  0.00054  0.03498  0.00066
0.2   4  4.16    0.1061   0.0017   0.65261  0.00048  0.0281   0.0014
0.4   0  2.6     0.06524  0.00064  0.47244  0.00058  0.03277  0.0008
0.4   1  2.64    0.06547  0.00071  0.47589  0.00047  0.03121  0.00059
0.4   2  2.736   0.06747  0.00071  0.48583  0.00052  0.03174  0.00031
0.4   3  2.872   0.06607  0.00081  0.4985   0.00043  0.02904  0.00041
0.4   4  3.04    0.067    0.0011   0.51516  0.00044  0.02688  0.00071
0.505 0  2.264   0.05086  0.00049  0.42814  0.00044  0.02815  0.00029
0.505 1  2.296   0.0515   0.00062  0.43263  0.00051  0.02783  0.00028
0.505 2  2.376   0.05095  0.00061  0.44022  0.00043  0.02713  0.0007
0.505 3  2.496   0.05254  0.00069  0.45184  0.00047  0.0277   0.001
0.505 4  2.64    0.0543   0.00087  0.46561  0.00047  0.02598  0.00077
0.6   0  2.04    0.04288  0.00048  0.39339  0.00041  0.02746  0.0007
0.6   1  2.064   0.04212  0.00047  0.39815  0.00047  0.02676  0.00068
0.6   2  2.136   0.04282  0.00062  0.40725  0.00046  0.0307   0.0019
0.6   3  2.24    0.0427   0.00057  0.4182   0.00041  0.023    0.00033
0.6   4  2.368   0.04378  0.00081  0.43014  0.00048  0.02306  0.0007
0.8   0  1.712   0.03152  0.00036  0.34003  0.0005   0.02282  0.00022
0.8   1  1.728   0.02961  0.00036  0.34908  0.0004   0.02164  0.00026
0.8   2  1.784   0.02859  0.00042  0.36096  0.00043  0.01992  0.00037
0.8   3  1.856   0.02629  0.00053  0.37721  0.00036  0.0144   0.0011
0.8   4  1.952   0.0244   0.00067  0.39236  0.00038  0.01619  0.00054
"""

# Werth et al. (2015), Table 2: L*, Q*^2, T*, rho'*, u(rho'*), gamma*, u(gamma*).
_WERTH = """
0     0  3.156  0.8034  0.0002  3.79  0.16
0     0  3.681  0.7416  0.0002  2.66  0.12
0     0  4.225  0.6624  0.0001  1.53  0.05
0     0  4.674  0.5888  0.0007  0.77  0.06
0     1  3.132  0.8257  0.0002  4.22  0.05
0     1  3.712  0.7571  0.0002  2.91  0.11
0     1  4.187  0.6929  0.0003  1.89  0.09
0     1  4.773  0.5927  0.0011  0.77  0.08
0     2  3.398  0.8416  0.0001  4.48  0.19
0     2  3.925  0.7778  0.0002  3.2   0.12
0     2  4.538  0.6923  0.0004  1.8   0.08
0     2  4.946  0.6212  0.0006  0.98  0.09
0     3  3.505  0.8876  0.0003  5.45  0.15
0     3  4.106  0.8178  0.0001  3.86  0.1
0     3  4.741  0.7333  0.0003  2.3   0.06
0     3  5.341  0.6319  0.0009  1.01  0.1
0     4  3.841  0.9137  0.0001  6.06  0.2
0     4  4.476  0.8427  0.0003  4.31  0.11
0     4  5.164  0.754   0.0004  2.54  0.18
0     4  5.742  0.6588  0.0019  1.22  0.19
0.2   0  2.589  0.7108  0.0001  2.93  0.09
0.2   0  3.015  0.6573  0.0003  2.06  0.02
0.2   0  3.441  0.5955  0.0004  1.27  0.06
0.2   0  3.874  0.5141  0.0006  0.53  0.03
0.2   1  2.625  0.7206  0.0001  3.1   0.12
0.2   1  3.07   0.6639  0.0001  2.16  0.06
0.2   1  3.496  0.6014  0.0003  1.33  0.07
0.2   1  3.941  0.5174  0.0011  0.55  0.09
0.2   2  2.722  0.7433  0.0002  3.42  0.09
0.2   2  3.195  0.6825  0.0001  2.37  0.06
0.2   2  3.659  0.614   0.0002  1.39  0.09
0.2   2  4.072  0.5367  0.0009  0.66  0.04
0.2   3  2.877  0.7692  0.0001  3.9   0.15
0.2   3  3.393  0.7038  0.0004  2.68  0.08
0.2   3  3.856  0.6368  0.0004  1.61  0.08
0.2   3  4.318  0.552   0.0009  0.74  0.05
0.2   4  3.054  0.7973  0.0003  4.55  0.27
0.2   4  3.642  0.7254  0.0002  3     0.06
0.2   4  4.103  0.6609  0.0004  1.92  0.18
0.2   4  4.6    0.5738  0.0008  0.89  0.11
0.4   0  1.893  0.5807  0.0006  1.88  0.08
0.4   0  2.232  0.5335  0.0002  1.31  0.07
0.4   0  2.536  0.4836  0.0002  0.8   0.05
0.4   0  2.858  0.4144  0.001   0.33  0.05
0.4   1  1.925  0.5866  0.0002  1.96  0.06
0.4   1  2.239  0.5422  0.0001  1.39  0.06
0.4   1  2.573  0.4873  0.0002  0.81  0.05
0.4   1  2.869  0.4248  0.0006  0.37  0.04
0.4   2  1.999  0.6004  0.0004  2.15  0.06
0.4   2  2.318  0.555   0.0002  1.53  0.04
0.4   2  2.663  0.4983  0.0004  0.9   0.04
0.4   2  2.987  0.4293  0.0007  0.37  0.03
0.4   3  2.096  0.6193  0.0004  2.41  0.09
0.4   3  2.447  0.5696  0.0004  1.69  0.14
0.4   3  2.794  0.513   0.0003  1     0.04
0.4   3  3.134  0.4422  0.0008  0.43  0.02
0.4   4  2.213  0.6395  0.0004  2.75  0.13
0.4   4  2.599  0.5862  0.0002  1.87  0.1
0.4   4  2.972  0.5268  0.0004  1.12  0.05
0.4   4  3.35   0.4487  0.0007  0.45  0.03
0.505 0  1.638  0.5288  0.0008  1.57  0.05
0.505 0  1.913  0.4888  0.0003  1.1   0.08
0.505 0  2.19   0.4415  0.0006  0.67  0.04
0.505 0  2.476  0.3774  0.001   0.27  0.03
0.505 1  1.652  0.536   0.0004  1.65  0.04
0.505 1  1.924  0.4954  0.0011  1.16  0.03
0.505 1  2.187  0.4516  0.0004  0.75  0.06
0.505 1  2.509  0.3806  0.0009  0.28  0.02
0.505 2  1.728  0.5467  0.0005  1.77  0.08
0.505 2  2.029  0.5015  0.0001  1.21  0.07
0.505 2  2.288  0.4567  0.0006  0.76  0.06
0.505 2  2.584  0.3913  0.0009  0.33  0.04
0.505 3  1.813  0.5629  0.0004  1.99  0.07
0.505 3  2.102  0.5196  0.0008  1.38  0.02
0.505 3  2.393  0.4708  0.0004  0.86  0.05
0.505 3  2.692  0.4068  0.0004  0.37  0.03
0.505 4  1.922  0.5793  0.0004  2.22  0.11
0.505 4  2.252  0.5311  0.0002  1.51  0.07
0.505 4  2.541  0.4828  0.0004  0.96  0.06
0.505 4  2.885  0.409   0.0005  0.37  0.01
0.6   0  1.475  0.4892  0.0003  1.31  0.03
0.6   0  1.726  0.4508  0.0002  0.92  0.05
0.6   0  1.948  0.4111  0.0003  0.6   0.01
0.6   0  2.211  0.3498  0.0006  0.24  0.02
0.6   1  1.49   0.4958  0.0003  1.4   0.04
0.6   1  1.731  0.4588  0.0001  1.01  0.04
0.6   1  2.011  0.4084  0.0003  0.56  0.03
0.6   1  2.233  0.3562  0.0007  0.27  0.03
0.6   2  1.552  0.507   0.0003  1.52  0.05
0.6   2  1.81   0.466   0.0009  1.05  0.06
0.6   2  2.08   0.4177  0.0003  0.61  0.06
0.6   2  2.314  0.3627  0.0008  0.28  0.02
0.6   3  1.61   0.5248  0.0003  1.76  0.09
0.6   3  1.879  0.4829  0.0004  1.21  0.05
0.6   3  2.137  0.4378  0.0003  0.76  0.07
0.6   3  2.435  0.3705  0.0008  0.3   0.05
0.6   4  1.725  0.5372  0.0001  1.9   0.07
0.6   4  2.023  0.4912  0.0007  1.29  0.05
0.6   4  2.284  0.446   0.0004  0.82  0.03
0.6   4  2.608  0.3719  0.0003  0.29  0.03
0.8   0  1.234  0.4293  0.0002  1.03  0.02
0.8   0  1.426  0.3968  0.0006  0.73  0.02
0.8   0  1.632  0.3574  0.0005  0.44  0.03
0.8   0  1.856  0.2993  0.0002  0.16  0.01
0.8   1  1.246  0.438   0.0002  1.11  0.04
0.8   1  1.458  0.402   0.0006  0.76  0.03
0.8   1  1.686  0.3577  0.0005  0.44  0.02
0.8   1  1.885  0.3061  0.001   0.18  0.04
0.8   2  1.308  0.449   0.0003  1.21  0.05
0.8   2  1.514  0.4138  0.0005  0.86  0.05
0.8   2  1.712  0.376   0.0003  0.54  0.04
0.8   2  1.933  0.322   0.0004  0.23  0.02
0.8   3  1.352  0.4675  0.0003  1.39  0.11
0.8   3  1.579  0.4296  0.0004  0.97  0.05
0.8   3  1.801  0.388   0.0002  0.61  0.06
0.8   3  2.045  0.329   0.0007  0.25  0.03
0.8   4  1.447  0.4796  0.0002  1.54  0.08
0.8   4  1.674  0.443   0.0003  1.09  0.03
0.8   4  1.914  0.3992  0.0002  0.68  0.01
0.8   4  2.187  0.3338  0.0003  0.25  0.01
"""


def _table(text):
    return np.array([[float(x) for x in line.split()] for line in text.strip().splitlines()])


STOLL_080, WERTH = _table(_STOLL_080), _table(_WERTH)


def test_critical_data_against_stoll_table2():
    """T*c and rho*c of the 30 simulated fluids (Stoll et al. 2001, Table 2).

    Tolerance: the paper finds most deviations of T*c within 0.5 % and rho*c of
    "roughly the same quality" (section 5.1); here at most 1 % and 1.5 %
    (measured: 0.78 % and 1.16 %).
    """
    for q in range(5):
        for j, L in enumerate(_L_TABLE2):
            assert float(corr.critical_temperature(L, q)) == pytest.approx(
                _TC_TABLE2[q][j], rel=0.01
            ), (L, q)
            assert float(corr.critical_density(L, q)) == pytest.approx(
                _RHOC_TABLE2[q][j], rel=0.015
            ), (L, q)


def test_saturated_states_against_stoll_table1():
    """Saturated densities and vapour pressure at about 0.80 T*c, all 30 fluids
    (Stoll et al. 2001, Table 1).

    Tolerances: liquid density 0.5 % (the paper: deviations "in the range of
    0.4 % for mid temperatures"; measured max 0.49 %); vapour pressure 6 % and a
    median deviation within 2 standard uncertainties (the paper: "in most cases
    ... within their uncertainties"; measured max 5.3 %, median 1.5 u); vapour
    density 20 % (measured max 18 %; the paper does not quantify it).
    """
    L, Q2, T, p, u_p, rl, _, rv, _ = STOLL_080.T
    rho_l = np.asarray(corr.saturated_liquid_density(T, L, Q2))
    rho_v = np.asarray(corr.saturated_vapour_density(T, L, Q2))
    p_s = np.asarray(corr.vapour_pressure(T, L, Q2))
    np.testing.assert_allclose(rho_l, rl, rtol=0.005)
    np.testing.assert_allclose(rho_v, rv, rtol=0.20)
    np.testing.assert_allclose(p_s, p, rtol=0.06)
    assert np.median(np.abs(p_s - p) / u_p) < 2.0


def test_liquid_density_against_werth_simulations():
    """The saturated liquid density against the independent simulations of Werth
    et al. (2015, Table 2; 120 points, 0.59 to 0.91 T*c): within 1.2 % everywhere
    and 0.3 % on average (measured: 1.1 % and 0.23 %), the accuracy the
    correlation shows against its own data (0.4 % at mid temperatures, more near
    T*c).
    """
    L, Q2, T, rl = WERTH[:, 0], WERTH[:, 1], WERTH[:, 2], WERTH[:, 3]
    rel = np.asarray(corr.saturated_liquid_density(T, L, Q2)) / rl - 1.0
    assert np.max(np.abs(rel)) < 0.012
    assert np.mean(np.abs(rel)) < 0.003


def test_lennard_jones_limit():
    """L* = Q*^2 = 0 is the LJ fluid of energy 4 epsilon (two coinciding sites):
    T*c / 4 and rho*c against Potoff and Panagiotopoulos (1998), 1.3120(7) and
    0.316(1), within 0.2 % and 1 % (Stoll et al. quote 1.310 and 0.314 of Lotfi et
    al. as the basis; measured 0.14 % and 0.54 %); the saturated states from 0.6
    to 0.95 T*c against the LJ EOS of Thol et al. (2016) (teqp), with T* = 4 T*_LJ
    and p* = 4 p*_LJ: liquid density within 0.25 %, vapour pressure 4 %, vapour
    density 9 % (measured 0.17 %, 3.7 %, 8.3 %).
    """
    teqp = pytest.importorskip("teqp")
    assert float(corr.critical_temperature(0.0, 0.0)) / 4.0 == pytest.approx(1.3120, rel=0.002)
    assert float(corr.critical_density(0.0, 0.0)) == pytest.approx(0.316, rel=0.01)
    lj = teqp.make_model({"kind": "LJ126_TholJPCRD2016", "model": {}})
    x = np.array([1.0])
    for T_lj in (0.8, 0.9, 1.0, 1.1, 1.2, 1.25):
        T = 4.0 * T_lj
        rl0 = float(corr.saturated_liquid_density(T, 0.0, 0.0))
        rv0 = float(corr.saturated_vapour_density(T, 0.0, 0.0))
        rl, rv = lj.pure_VLE_T(T_lj, rl0, rv0, 20)
        p = 4.0 * rl * T_lj * (1.0 + lj.get_Ar01(T_lj, rl, x))
        assert rl0 == pytest.approx(rl, rel=0.0025), T_lj
        assert rv0 == pytest.approx(rv, rel=0.09), T_lj
        assert float(corr.vapour_pressure(T, 0.0, 0.0)) == pytest.approx(p, rel=0.04), T_lj


def test_surface_tension_against_werth_simulations():
    """gamma* against Werth et al. (2015), Table 2 (120 points).

    The paper says its correlation agrees "generally within the statistical
    uncertainties", with a mean relative deviation of 1.9 %. With b3 of the
    paper's Table 3 negated that holds here: mean below 2 %, at least 95 % of the
    points within their stated uncertainty (measured 1.4 %, 97 %). With b3 as
    printed (what Madin et al. use) it does not: mean 5.7 %, 28 % at L* = 0.8,
    Q*^2 = 4, 67 % within uncertainty; this pins that documented discrepancy.
    """
    L, Q2, T, g, u = WERTH[:, 0], WERTH[:, 1], WERTH[:, 2], WERTH[:, 5], WERTH[:, 6]
    fixed = np.asarray(corr.surface_tension(T, L, Q2, variant="b3_negative"))
    assert np.mean(np.abs(fixed / g - 1.0)) < 0.02
    assert np.mean(np.abs(fixed - g) <= u) >= 0.95
    printed = np.asarray(corr.surface_tension(T, L, Q2))
    assert np.mean(np.abs(printed / g - 1.0)) > 0.05
    # Q*^2 <= 2: the cubic term is small and both readings agree with the data
    small = Q2 <= 2.0
    assert np.mean(np.abs(printed[small] / g[small] - 1.0)) < 0.025


def _madin_units(fn, T_K, M_g_per_mol):
    """Madin et al.'s mapping (bayesiantesting StollWerthSurrogate, with its own
    constants): epsilon in K, sigma and L in nm, Q in D nm; rho in kg/m^3, p in
    kPa, gamma in J/m^2."""

    def f(eps, sig, L, Q):
        q = (Q * 3.1623) ** 2 / (eps * 1.38065 * sig**5)
        return fn(T_K / eps, L / sig, q, eps, sig, M_g_per_mol)

    return f


_MADIN = {
    # property: (function of reduced values -> their units, printed value, printed
    # gradient in (epsilon, sigma, L, Q), relative tolerance of the printed digits)
    "critical_temperature": (
        lambda t, el, q, e, s, m: corr.critical_temperature(el, q) * e,
        310.99575,
        (3.17342591, 452.59372786, -1140.53645031, 0.00153665),
        1e-6,
    ),
    "liquid_density": (
        lambda t, el, q, e, s, m: (
            corr.saturated_liquid_density(t, el, q) * m / s**3 / 6.02214 * 10
        ),
        285.1592692,
        (28.12601669, 2044.99241265, -10856.5686318, 0.01421091),
        1e-6,
    ),
    "vapour_pressure": (
        lambda t, el, q, e, s, m: corr.vapour_pressure(t, el, q) * e / s**3 * 1.38065 * 10,
        5027.57796073,
        (-234.84756081, -68931.5713522, 73156.01894348, -0.11010289),
        1e-6,
    ),
    "surface_tension": (
        lambda t, el, q, e, s, m: corr.surface_tension(t, el, q) * e / s**2 * 1.38065e-5,
        0.00017652,
        (0.00023103, 0.03215253, -0.08337817, 9.44823625e-07),
        5e-5,
    ),
}


@pytest.mark.parametrize("prop", sorted(_MADIN))
def test_values_and_gradients_of_madin_et_al_code(prop):
    """The values and parameter gradients printed in Madin et al.'s code tests for
    ethane-like parameters (epsilon = 98 K, sigma = 0.378 nm, L = 0.15 nm, Q = 0.01
    D nm, M = 30.069 g/mol, T = 308 K), to the digits printed there (1e-6 relative;
    the surface tension 5e-5, printed to 5 digits; measured: 1e-8 and 2e-5).
    """
    fn, value, grad, rtol = _MADIN[prop]
    f = _madin_units(fn, 308.0, 30.069)
    x = (98.0, 0.378, 0.15, 0.01)
    assert float(f(*x)) == pytest.approx(value, rel=rtol)
    np.testing.assert_allclose(np.array(jax.grad(f, (0, 1, 2, 3))(*x)), grad, rtol=max(rtol, 1e-6))


def test_nan_at_and_above_the_critical_temperature_with_finite_gradients():
    """At and above the correlation's T*c there is no coexistence: NaN values (a
    failure as a value inside jit), and the gradient of a masked sum stays finite
    (no NaN leaks into a log density)."""
    L, q = 0.505, 1.0
    tc = float(corr.critical_temperature(L, q))
    for fn in (
        corr.saturated_liquid_density,
        corr.saturated_vapour_density,
        corr.vapour_pressure,
        corr.surface_tension,
    ):
        assert np.isnan(float(fn(tc, L, q))) and np.isnan(float(fn(1.1 * tc, L, q)))
        assert np.isfinite(float(fn(0.9 * tc, L, q)))

        def masked(T, fn=fn):
            v = fn(T, L, q)
            return jax.numpy.where(jax.numpy.isnan(v), 0.0, v)

        assert float(jax.grad(masked)(1.1 * tc)) == 0.0
    with pytest.raises(ValueError, match="variant"):
        corr.surface_tension(2.0, L, q, variant="corrected")


@pytest.mark.slow
def test_gradients_match_finite_differences():
    """Derivatives in (T*, L*, Q*^2) of every correlation (jax.jacrev) against
    central differences with relative step h = 1e-6, at an interior state (0.75
    T*c, L*, Q*^2 > 0). Tolerance 1e-7 relative: truncation error ~h^2 and
    round-off ~1e-16/h, both far below it. (Second derivatives are not needed by
    a likelihood gradient; the EOS's are tested in test_two_centre.py.)"""

    def all_six(x):
        T, L, q = x[0], x[1], x[2]
        return jax.numpy.stack(
            [
                corr.saturated_liquid_density(T, L, q),
                corr.saturated_vapour_density(T, L, q),
                corr.vapour_pressure(T, L, q),
                corr.surface_tension(T, L, q),
                corr.critical_temperature(L, q),
                corr.critical_density(L, q),
            ]
        )

    x = np.array([2.2, 0.505, 1.5])
    value, jac = jax.jit(all_six), jax.jit(jax.jacrev(all_six))
    fd = np.empty((6, 3))
    for k in range(3):
        h = 1e-6 * x[k]
        up, down = x.copy(), x.copy()
        up[k] += h
        down[k] -= h
        fd[:, k] = (np.asarray(value(up)) - np.asarray(value(down))) / (2.0 * h)
    np.testing.assert_allclose(np.asarray(jac(x)), fd, rtol=1e-7, atol=1e-12)


def test_validity_records_the_simulated_range():
    """The Validity records span the simulations: Stoll et al. 0 <= L* <= 0.8,
    0 <= Q*^2 <= 4 (their section 2), in T* from 0.55 T*c of the fluid with the
    lowest T*c (L* = 0.8, Q*^2 = 0: 0.55 x 2.053) to 0.95 T*c of the one with the
    highest (L* = 0, Q*^2 = 4: 0.95 x 6.396), T*c from the correlation."""
    v = corr.STOLL2001_VALIDITY
    assert v.shape == {"L_star": (0.0, 0.8), "Q2_star": (0.0, 4.0)}
    assert v.T_star == pytest.approx((0.55 * 2.0529, 0.95 * 6.3961), rel=1e-3)
    assert corr.WERTH_VALIDITY.shape == v.shape
