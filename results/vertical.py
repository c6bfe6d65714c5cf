"""GEOS-Chem's hybrid sigma-pressure levels, for files that carry no coefficients (GCHP's).

Ap (hPa) and Bp at the 73 level edges, surface first, from geoschem/geos-chem
`GeosUtil/pressure_mod.F90` (Init_Pressure); the 47-level grid lumps the levels above level 36
(4 pairs, then 7 groups of 4). The demo model (containers/demo_model/grids.py) holds the same
table for its own use: the job container and the web app share no code.
"""

import numpy as np

STANDARD_SURFACE_HPA = 1013.25  # pressures for display when a file has no surface pressure

AP72 = np.array([
    0.000000e+00, 4.804826e-02, 6.593752e+00, 1.313480e+01, 1.961311e+01, 2.609201e+01, 3.257081e+01,
    3.898201e+01, 4.533901e+01, 5.169611e+01, 5.805321e+01, 6.436264e+01, 7.062198e+01, 7.883422e+01,
    8.909992e+01, 9.936521e+01, 1.091817e+02, 1.189586e+02, 1.286959e+02, 1.429100e+02, 1.562600e+02,
    1.696090e+02, 1.816190e+02, 1.930970e+02, 2.032590e+02, 2.121500e+02, 2.187760e+02, 2.238980e+02,
    2.243630e+02, 2.168650e+02, 2.011920e+02, 1.769300e+02, 1.503930e+02, 1.278370e+02, 1.086630e+02,
    9.236572e+01, 7.851231e+01, 6.660341e+01, 5.638791e+01, 4.764391e+01, 4.017541e+01, 3.381001e+01,
    2.836781e+01, 2.373041e+01, 1.979160e+01, 1.645710e+01, 1.364340e+01, 1.127690e+01, 9.292942e+00,
    7.619842e+00, 6.216801e+00, 5.046801e+00, 4.076571e+00, 3.276431e+00, 2.620211e+00, 2.084970e+00,
    1.650790e+00, 1.300510e+00, 1.019440e+00, 7.951341e-01, 6.167791e-01, 4.758061e-01, 3.650411e-01,
    2.785261e-01, 2.113490e-01, 1.594950e-01, 1.197030e-01, 8.934502e-02, 6.600001e-02, 4.758501e-02,
    3.270000e-02, 2.000000e-02, 1.000000e-02,
])
BP72 = np.array([
    1.000000e+00, 9.849520e-01, 9.634060e-01, 9.418650e-01, 9.203870e-01, 8.989080e-01, 8.774290e-01,
    8.560180e-01, 8.346609e-01, 8.133039e-01, 7.919469e-01, 7.706375e-01, 7.493782e-01, 7.211660e-01,
    6.858999e-01, 6.506349e-01, 6.158184e-01, 5.810415e-01, 5.463042e-01, 4.945902e-01, 4.437402e-01,
    3.928911e-01, 3.433811e-01, 2.944031e-01, 2.467411e-01, 2.003501e-01, 1.562241e-01, 1.136021e-01,
    6.372006e-02, 2.801004e-02, 6.960025e-03, 8.175413e-09,
] + [0.0] * 41)
_LUMP47 = [1] * 36 + [2] * 4 + [4] * 7
_EDGES47 = np.concatenate([[0], np.cumsum(_LUMP47)])


def edges(levels: int) -> tuple[np.ndarray, np.ndarray]:
    """(Ap, Bp) at the levels + 1 edges, surface first, for GEOS-Chem's 72- or 47-level grid."""
    if levels == 72:
        return AP72, BP72
    if levels == 47:
        return AP72[_EDGES47], BP72[_EDGES47]
    raise ValueError(f"{levels} levels is neither GEOS-Chem's 72-level nor its 47-level grid, and the file "
                     "has no hybrid coefficients to compute pressures from")


def mid_pressures(levels: int, surface_hpa: float = STANDARD_SURFACE_HPA) -> np.ndarray:
    """Mid-level pressures (hPa), surface first: the mean of the edge pressures."""
    ap, bp = edges(levels)
    pe = ap + bp * surface_hpa
    return 0.5 * (pe[:-1] + pe[1:])


def edge_pressures(levels: int, surface_hpa: float = STANDARD_SURFACE_HPA) -> np.ndarray:
    ap, bp = edges(levels)
    return ap + bp * surface_hpa
