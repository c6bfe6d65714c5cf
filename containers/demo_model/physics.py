"""The demo model's physics: a prescribed atmosphere and wind, radon emitted from land, radioactive
decay to lead, and mass-conserving transport. Plain numpy, no I/O.

Tracers are dry mixing ratios ``q`` (mol/mol) shaped (ntracer, nlev, ncell), surface level first;
tracer 0 is Rn222, tracer 1 is Pb210.

What is simplified, and why (README.md has the full list):
- The atmosphere is dry, with a uniform surface pressure (``PS_HPA``) and a temperature that
  depends only on latitude and pressure. With a uniform surface pressure every layer has the
  same pressure thickness everywhere, which keeps the air mass fixed and transport exact.
- The wind derives from a streamfunction: zonal jets that vary with latitude and height plus two
  travelling waves that give a weak meridional component. Air crossing a cell face is the
  difference of the streamfunction between the face's two end points, so the flow is
  non-divergent cell by cell on ANY grid, and air mass never changes.
- Horizontal transport is first-order upwind in flux form: tracer mass leaves one cell exactly
  as it enters the next, so global mass is conserved to rounding (tests check 1e-12).
- Vertical transport is full mixing within a diurnally varying boundary layer, a relaxation of
  the troposphere towards its mean (convection, faster over tropical land) and a slow relaxation
  of the whole column (stratosphere-troposphere exchange). Each is mass-conserving.
- Pb210 is removed in the troposphere with a 10-day lifetime (a stand-in for wet and dry
  deposition; GEOS-Chem's TransportTracers deposits it too).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

G0 = 9.80665                 # m s-2
RD = 287.05                  # J kg-1 K-1, dry air
MW_AIR = 28.9644e-3          # kg mol-1
AVOGADRO = 6.02214076e23
PS_HPA = 1000.0              # uniform surface pressure of the demo atmosphere
DAY = 86400.0
YEAR = 365.25 * DAY
RN222_HALF_LIFE_S = 3.8235 * DAY
PB210_HALF_LIFE_S = 22.2 * YEAR
PB210_REMOVAL_LIFETIME_S = 10.0 * DAY
TRACERS = ("Rn222", "Pb210")


# ---------------------------------------------------------------------------------------------
# Atmosphere
# ---------------------------------------------------------------------------------------------
def tropopause_hpa(lat_deg):
    """Tropopause pressure: 100 hPa at the equator, 300 hPa at the poles."""
    s2 = np.sin(np.deg2rad(lat_deg)) ** 2
    return 100.0 + 200.0 * s2


def temperature(p_hpa, lat_deg):
    """Temperature (K) at pressure ``p_hpa`` and latitude, broadcasting: a lapse-rate
    troposphere, an isothermal lower stratosphere, warming to the stratopause at 1 hPa and
    cooling above."""
    p = np.asarray(p_hpa, dtype=float)
    s2 = np.sin(np.deg2rad(np.asarray(lat_deg, dtype=float))) ** 2
    t_surface = 302.0 - 55.0 * s2
    t_tropopause = 195.0 + 15.0 * s2
    # 6.5 K/km lapse rate as a power of pressure: T = Ts (p/ps)^(R Gamma / g).
    t = np.maximum(t_surface * (p / PS_HPA) ** (RD * 6.5e-3 / G0), t_tropopause)
    warming = 25.0 * np.log10(np.clip(30.0 / p, 1.0, 30.0))
    cooling = 20.0 * np.log10(np.clip(1.0 / p, 1.0, None))
    return t + warming - cooling


@dataclass
class Atmosphere:
    """The prescribed, time-invariant state of the air on one grid and one set of levels."""

    p_edge: np.ndarray      # (nlev+1,) hPa, surface first
    dp_pa: np.ndarray       # (nlev,) layer thickness in Pa (same in every column)
    p_mid: np.ndarray       # (nlev,) hPa, arithmetic mean of the edges (as GEOS-Chem)
    air_mass: np.ndarray    # (nlev, ncell) kg
    temperature: np.ndarray  # (nlev, ncell) K
    z_edge: np.ndarray      # (nlev+1, ncell) m above the surface
    trop_levels: np.ndarray  # (ncell,) number of layers below the tropopause (>= 1)

    @property
    def box_height(self) -> np.ndarray:
        return np.diff(self.z_edge, axis=0)


def make_atmosphere(vertical, area: np.ndarray, lat: np.ndarray) -> Atmosphere:
    """The demo atmosphere on ``vertical`` levels over cells of ``area`` (m2) at ``lat``."""
    p_edge = vertical.edge_pressure(PS_HPA)
    dp_pa = (p_edge[:-1] - p_edge[1:]) * 100.0
    p_mid = 0.5 * (p_edge[:-1] + p_edge[1:])
    t = temperature(p_mid[:, None], lat[None, :])
    dz = RD * t / G0 * np.log(p_edge[:-1] / p_edge[1:])[:, None]
    z_edge = np.concatenate([np.zeros((1, lat.size)), np.cumsum(dz, axis=0)])
    trop = np.maximum(1, (p_mid[:, None] > tropopause_hpa(lat)[None, :]).sum(axis=0))
    return Atmosphere(p_edge=p_edge, dp_pa=dp_pa, p_mid=p_mid,
                      air_mass=area[None, :] * dp_pa[:, None] / G0, temperature=t,
                      z_edge=z_edge, trop_levels=trop)


def pbl_height(lon_deg, land_fraction, seconds_of_day: float):
    """Boundary-layer height (m): 500 m over sea; over land 250 m at night rising to 2000 m at
    local noon."""
    local_hour = (seconds_of_day / 3600.0 + np.asarray(lon_deg) / 15.0) % 24.0
    sun = np.maximum(0.0, np.cos(2.0 * math.pi * (local_hour - 12.0) / 24.0))
    return (1.0 - land_fraction) * 500.0 + land_fraction * (250.0 + 1750.0 * sun)


def pbl_levels(z_edge: np.ndarray, height: np.ndarray) -> np.ndarray:
    """Number of layers whose bottom lies below ``height`` (at least 1)."""
    return np.maximum(1, (z_edge[:-1] < height[None, :]).sum(axis=0))


# ---------------------------------------------------------------------------------------------
# Wind: a streamfunction psi (m2 s-1) with u = -(1/a) dpsi/dlat, v = 1/(a cos lat) dpsi/dlon.
# ---------------------------------------------------------------------------------------------
# Travelling waves: (zonal wavenumber, period of the phase in days, amplitude in m/s).
WAVES = ((4, 8.0, 5.0), (2, 30.0, 4.0))


def zonal_wind(lat_deg, p_hpa):
    """Zonal-mean wind (m/s): subtropical jets near 200 hPa, surface westerlies in mid-latitudes,
    trade-wind easterlies, polar easterlies and a stratospheric westerly; broadcasting."""
    lat = np.asarray(lat_deg, dtype=float)
    p = np.asarray(p_hpa, dtype=float)
    alat = np.abs(lat)
    jet = 30.0 * np.exp(-((alat - 35.0) / 12.0) ** 2) * np.exp(-(np.log(p / 200.0) / 0.8) ** 2)
    westerlies = 8.0 * np.exp(-((alat - 45.0) / 15.0) ** 2) * np.clip(p / 100.0, 0.0, 1.0)
    low = np.clip((p - 300.0) / 700.0, 0.0, 1.0)
    trades = -6.0 * np.exp(-(lat / 18.0) ** 2) * low
    polar = -4.0 * np.exp(-((alat - 72.0) / 8.0) ** 2) * low
    strat = 15.0 * np.exp(-((alat - 60.0) / 15.0) ** 2) * np.clip(np.log(50.0 / p), 0.0, 3.0) / 3.0
    return jet + westerlies + trades + polar + strat


def _wave_amplitude(p_hpa):
    """Vertical structure of the waves: strongest near 250 hPa, fading in the stratosphere."""
    p = np.asarray(p_hpa, dtype=float)
    return (0.4 + 0.6 * np.exp(-(np.log(p / 250.0)) ** 2)) * np.clip(p / 50.0, 0.0, 1.0)


class Winds:
    """The prescribed wind at a fixed set of pressure levels (one per model layer)."""

    def __init__(self, p_levels_hpa: np.ndarray, radius: float):
        self.p = np.asarray(p_levels_hpa, dtype=float)
        self.radius = radius
        # The zonal-mean streamfunction psi0 = -a * integral of u from the south pole, tabulated
        # on a fine latitude grid; values in between are interpolated. (Any single-valued psi
        # keeps the discrete flow non-divergent, so the table's accuracy only shapes the wind.)
        self._lat_table = np.linspace(-90.0, 90.0, 7201)
        u = zonal_wind(self._lat_table[None, :], self.p[:, None])
        dphi = np.deg2rad(np.diff(self._lat_table))
        integral = np.concatenate([np.zeros((self.p.size, 1)),
                                   np.cumsum(0.5 * (u[:, 1:] + u[:, :-1]) * dphi, axis=1)], axis=1)
        self._psi0_table = -radius * integral
        self._amp = _wave_amplitude(self.p)

    def _psi0(self, lat_deg):
        pos = (np.asarray(lat_deg) + 90.0) / 180.0 * (self._lat_table.size - 1)
        i0 = np.clip(np.floor(pos).astype(np.int64), 0, self._lat_table.size - 2)
        w = pos - i0
        return self._psi0_table[:, i0] * (1.0 - w) + self._psi0_table[:, i0 + 1] * w

    @staticmethod
    def _phase(k, period_days, lon_deg, t_seconds):
        return k * np.deg2rad(lon_deg) - 2.0 * math.pi * t_seconds / (period_days * DAY)

    def psi(self, lon_deg, lat_deg, t_seconds: float) -> np.ndarray:
        """Streamfunction (nlev, npoints) in m2/s at time ``t_seconds`` (from any fixed epoch)."""
        lat = np.deg2rad(lat_deg)
        shape = np.cos(lat) ** 3 * np.sin(lat) ** 2
        out = self._psi0(lat_deg)
        for k, period, amplitude in WAVES:
            a = amplitude / (0.25 * k)  # so that the largest meridional wind is `amplitude`
            out = out + np.outer(self.radius * a * self._amp, shape * np.cos(self._phase(k, period, lon_deg, t_seconds)))
        return out

    def uv(self, lon_deg, lat_deg, t_seconds: float):
        """Eastward and northward wind (nlev, npoints) in m/s."""
        return PointWinds(self, lon_deg, lat_deg).uv(t_seconds)


class PointWinds:
    """The wind at fixed points, with everything that does not change in time computed once
    (the diagnostics ask for it at every step)."""

    def __init__(self, winds: Winds, lon_deg, lat_deg):
        lat = np.deg2rad(lat_deg)
        c, s = np.cos(lat), np.sin(lat)
        self.winds = winds
        self.lon = np.asarray(lon_deg, dtype=float)
        self.zonal = zonal_wind(np.asarray(lat_deg)[None, :], winds.p[:, None])
        self.d_shape = c ** 2 * s * (2.0 * c ** 2 - 3.0 * s ** 2)   # d/dlat of cos^3 sin^2
        self.v_shape = c ** 2 * s ** 2
        self._cache = (None, None)

    def uv(self, t_seconds: float):
        if self._cache[0] == t_seconds:
            return self._cache[1]
        u = self.zonal.copy()
        v = np.zeros_like(u)
        amp = self.winds._amp
        for k, period, amplitude in WAVES:
            a = amplitude / (0.25 * k)
            phase = Winds._phase(k, period, self.lon, t_seconds)
            u -= np.outer(a * amp, self.d_shape * np.cos(phase))
            v -= np.outer(a * amp, k * self.v_shape * np.sin(phase))
        self._cache = (t_seconds, (u, v))
        return u, v


# ---------------------------------------------------------------------------------------------
# Transport
# ---------------------------------------------------------------------------------------------
class Advection:
    """First-order upwind, flux-form transport on a ``grids.Grid``.

    The air crossing each cell face in one layer (kg/s) is dp/g times the streamfunction
    difference along the face. Faces inside a block (the lat-lon grid, each cube face) are
    handled by array slicing, which is fast; the few faces that join blocks or wrap around the
    date line by index lists. Faces on a nested domain's outer boundary use the inside cell's
    mixing ratio for air coming in as well as going out (zero-gradient boundary condition: the
    demo model needs no boundary conditions from a global run).
    """

    MAX_COURANT = 0.9

    def __init__(self, grid, dp_pa: np.ndarray, air_mass: np.ndarray, ntracer: int):
        self.grid = grid
        self.nlev = dp_pa.size
        self.ncell = grid.ncell
        self.ntracer = ntracer
        self.block_shape = (self.nlev,) + tuple(grid.blocks)
        self.layer_mass_per_area = dp_pa / G0                       # (nlev,) kg m-2
        self.air_mass = air_mass.reshape(self.block_shape)
        self._inverse_mass = 1.0 / self.air_mass
        # The listed faces touch few cells: scatter into a compact array of just those cells
        # (``bincount`` over flat (tracer*level, cell) indices), then add it to the full one.
        self._touched = np.unique(np.concatenate([grid.link_left, grid.link_right, grid.bedge_cell]))
        local = {name: np.searchsorted(self._touched, cells) for name, cells in
                 (("left", grid.link_left), ("right", grid.link_right), ("bcell", grid.bedge_cell))}
        nt = self._touched.size
        lev_blocks = np.arange(self.nlev)[:, None] * nt
        self._local = local
        self._lev_index = {k: (lev_blocks + v[None, :]).ravel() for k, v in local.items()}
        self._chunk_index = {}

    def face_fluxes(self, psi_vertices: np.ndarray) -> dict:
        """Air mass fluxes (kg/s) from the streamfunction at the vertices (nlev, nvert): ``x``
        (block cell i -> i+1), ``y`` (j -> j+1), ``link`` (left -> right) and ``boundary``
        (inside -> outside)."""
        g = self.grid
        w = self.layer_mass_per_area
        pc = psi_vertices[:, g.corner_vertex]                       # (nlev, nb, ny+1, nx+1)
        w4 = w[:, None, None, None]
        return {
            "x": (pc[..., :-1, 1:-1] - pc[..., 1:, 1:-1]) * w4,
            "y": (pc[..., 1:-1, 1:] - pc[..., 1:-1, :-1]) * w4,
            "link": (psi_vertices[:, g.link_va] - psi_vertices[:, g.link_vb]) * w[:, None],
            "boundary": (psi_vertices[:, g.bedge_va] - psi_vertices[:, g.bedge_vb]) * w[:, None],
        }

    def _scatter(self, which: str, values: np.ndarray, nl: int) -> np.ndarray:
        """Sum ``values`` (ntracer, nl, nface) onto the touched cells of faces ``which``."""
        nt = self._touched.size
        key = (which, nl)
        if key not in self._chunk_index:
            blocks = np.arange(self.ntracer * nl)[:, None] * nt
            self._chunk_index[key] = (blocks + self._local[which][None, :]).ravel()
        size = self.ntracer * nl * nt
        return np.bincount(self._chunk_index[key], values.ravel(), size).reshape(self.ntracer, nl, nt)

    def outflow(self, flux: dict) -> np.ndarray:
        """Air leaving each cell (kg/s), (nlev, nb, ny, nx)."""
        out = np.zeros(self.block_shape)
        fx, fy = flux["x"], flux["y"]
        out[..., :-1] += np.maximum(fx, 0.0)
        out[..., 1:] += np.maximum(-fx, 0.0)
        out[..., :-1, :] += np.maximum(fy, 0.0)
        out[..., 1:, :] += np.maximum(-fy, 0.0)
        if self._touched.size:
            nt = self._touched.size
            extra = np.zeros(self.nlev * nt)
            for which, values in (("left", np.maximum(flux["link"], 0.0)),
                                  ("right", np.maximum(-flux["link"], 0.0)),
                                  ("bcell", np.maximum(flux["boundary"], 0.0))):
                extra += np.bincount(self._lev_index[which], values.ravel(), self.nlev * nt)
            out.reshape(self.nlev, self.ncell)[:, self._touched] += extra.reshape(self.nlev, nt)
        return out

    def substeps(self, flux: dict, dt: float) -> np.ndarray:
        """Sub-steps needed by each layer (nlev,) to keep the Courant number (air leaving a cell
        per step over its mass) below MAX_COURANT. The flow is non-divergent, so air entering
        equals air leaving. Layers differ: only those near the jets need several."""
        courant = (self.outflow(flux) * dt / self.air_mass).reshape(self.nlev, -1).max(axis=1)
        return np.maximum(1, np.ceil(courant / self.MAX_COURANT)).astype(int)

    # Layers are independent in horizontal transport, so they are advanced a few at a time:
    # the working arrays then stay in the CPU cache, which roughly halves the run time.
    CHUNK_BYTES = 256 * 1024

    def step(self, q: np.ndarray, flux: dict, dt: float) -> int:
        """Advance ``q`` (ntracer, nlev, ncell) in place by ``dt`` seconds; returns the largest
        number of sub-steps any layer used."""
        if not q.flags.c_contiguous:  # the block views below must alias q itself
            raise ValueError("Advection.step needs a C-contiguous tracer array")
        needed = self.substeps(flux, dt)
        per_level = self.ntracer * self.ncell * 8
        chunk = max(1, min(self.nlev, self.CHUNK_BYTES // per_level))
        k0 = 0
        while k0 < self.nlev:
            # A chunk holds layers that need the same number of sub-steps.
            k1 = k0 + 1
            while k1 < self.nlev and k1 - k0 < chunk and needed[k1] == needed[k0]:
                k1 += 1
            n = int(needed[k0])
            self._advance_levels(q, flux, dt / n, n, k0, k1)
            k0 = k1
        return int(needed.max())

    def _advance_levels(self, q, flux, h, n, k0, k1):
        g = self.grid
        nl = k1 - k0
        qb = q.reshape((self.ntracer,) + self.block_shape)[:, k0:k1]   # a view on q
        qf = q[:, k0:k1]
        fx, fy = flux["x"][k0:k1], flux["y"][k0:k1]
        fxp, fxn = np.maximum(fx, 0.0) * h, np.minimum(fx, 0.0) * h
        fyp, fyn = np.maximum(fy, 0.0) * h, np.minimum(fy, 0.0) * h
        fl, fb = flux["link"][k0:k1], flux["boundary"][k0:k1] * h
        flp, fln = np.maximum(fl, 0.0) * h, np.minimum(fl, 0.0) * h
        inverse_mass = self._inverse_mass[k0:k1]
        dm = np.empty(qb.shape)
        flat_dm = dm.reshape(self.ntracer, nl, self.ncell)
        mx, my = np.empty(qb[..., :-1].shape), np.empty(qb[..., :-1, :].shape)
        tmp_x, tmp_y = np.empty_like(mx), np.empty_like(my)
        for _ in range(n):
            dm.fill(0.0)
            np.multiply(fxp, qb[..., :-1], out=mx)                     # tracer through x faces
            mx += np.multiply(fxn, qb[..., 1:], out=tmp_x)
            dm[..., :-1] -= mx
            dm[..., 1:] += mx
            np.multiply(fyp, qb[..., :-1, :], out=my)                  # through y faces
            my += np.multiply(fyn, qb[..., 1:, :], out=tmp_y)
            dm[..., :-1, :] -= my
            dm[..., 1:, :] += my
            if self._touched.size:
                local = 0.0
                if flp.size:
                    moved = flp * qf[:, :, g.link_left] + fln * qf[:, :, g.link_right]
                    local = self._scatter("right", moved, nl) - self._scatter("left", moved, nl)
                if fb.size:
                    # Zero-gradient boundary: in or out, the air carries the inside cell's q.
                    local = local - self._scatter("bcell", fb * qf[:, :, g.bedge_cell], nl)
                flat_dm[:, :, self._touched] += local
            dm *= inverse_mass
            qb += dm


# ---------------------------------------------------------------------------------------------
# Column processes (all mass-conserving within each column)
# ---------------------------------------------------------------------------------------------
def mix_below(q: np.ndarray, dp: np.ndarray, nlevels: np.ndarray, fraction=1.0) -> None:
    """Move the lowest ``nlevels`` (ncell,) layers of each column of ``q`` (ntr, nlev, ncell)
    a ``fraction`` (scalar or (ncell,)) of the way towards their mass-weighted mean, in place.
    ``fraction`` 1 is full mixing. Column tracer mass (sum of q * dp) is unchanged."""
    kmax = int(nlevels.max())
    top = nlevels - 1
    if kmax == q.shape[1] and np.all(nlevels == kmax):
        mean = np.tensordot(q, dp, axes=([1], [0])) / dp.sum()          # (ntr, ncell)
    else:
        cum_q = np.cumsum(q[:, :kmax] * dp[None, :kmax, None], axis=1)
        mean = np.take_along_axis(cum_q, top[None, None, :], axis=1)[:, 0, :] / np.cumsum(dp)[top][None, :]
    fraction = np.asarray(fraction, dtype=float)
    if fraction.ndim == 0 and np.all(nlevels == kmax):
        q[:, :kmax] += fraction * (mean[:, None, :] - q[:, :kmax])
        return
    for k in range(kmax):
        weight = np.where(nlevels > k, fraction, 0.0)
        q[:, k] += weight * (mean - q[:, k])


def radon_emission(lat_deg, land_fraction):
    """Rn222 emission (mol m-2 s-1), approximately the classic Jacob et al. (1997) source:
    1 atom cm-2 s-1 from land between 60S and 60N, half that from 60N to 70N, none from land
    beyond (frozen soil, ice sheets), 0.005 atom cm-2 s-1 from the ocean."""
    lat = np.asarray(lat_deg, dtype=float)
    land_rate = np.where(np.abs(lat) <= 60.0, 1.0, np.where((lat > 60.0) & (lat <= 70.0), 0.5, 0.0))
    atoms_cm2_s = land_fraction * land_rate + (1.0 - land_fraction) * 0.005
    return atoms_cm2_s * 1.0e4 / AVOGADRO


def decay(rn: np.ndarray, pb: np.ndarray, dt: float):
    """Exact two-member decay chain over ``dt`` seconds (Bateman): Rn222 -> Pb210 -> (Bi210).
    Short-lived intermediate daughters are folded into Rn222's decay. Returns new (rn, pb)."""
    l1 = math.log(2.0) / RN222_HALF_LIFE_S
    l2 = math.log(2.0) / PB210_HALF_LIFE_S
    e1, e2 = math.exp(-l1 * dt), math.exp(-l2 * dt)
    return rn * e1, pb * e2 + rn * (l1 / (l2 - l1)) * (e1 - e2)


# ---------------------------------------------------------------------------------------------
# The model: everything above, in order, one step at a time
# ---------------------------------------------------------------------------------------------
STRAT_EXCHANGE_LIFETIME_S = 120.0 * DAY


def convection_lifetime(lat_deg, land_fraction):
    """Time scale (s) on which convection mixes the troposphere: 1 day over tropical land,
    2 days over tropical sea, 4 days outside the tropics."""
    tropics = np.exp(-(np.asarray(lat_deg) / 25.0) ** 2)
    rate = tropics * (land_fraction / 1.0 + (1.0 - land_fraction) / 2.0) + (1.0 - tropics) / 4.0
    return DAY / rate


@dataclass(frozen=True)
class Operations:
    """Which processes run (geoschem_config.yml ``operations``; all on by default)."""

    transport: bool = True
    pbl_mixing: bool = True
    convection: bool = True
    chemistry: bool = True        # radioactive decay
    deposition: bool = True       # Pb210 removal
    emissions: bool = True


class TracerModel:
    """Rn222 and Pb210 on one grid. ``seconds`` arguments count from a fixed epoch so that the
    travelling waves, and hence restarts, line up across segments."""

    def __init__(self, grid, vertical, land_fraction: np.ndarray, operations: Operations = Operations()):
        self.grid = grid
        self.vertical = vertical
        self.land_fraction = land_fraction
        self.ops = operations
        self.atm = make_atmosphere(vertical, grid.area, grid.lat)
        self.winds = Winds(self.atm.p_mid, grid.radius)
        self.advection = Advection(grid, self.atm.dp_pa, self.atm.air_mass, len(TRACERS))
        self.emission = radon_emission(grid.lat, land_fraction)
        self.convection_tau = convection_lifetime(grid.lat, land_fraction)
        self.q = np.zeros((len(TRACERS), vertical.nlev, grid.ncell))
        self.timers = {name: 0.0 for name in ("HEMCO", "Boundary layer mixing", "Convection",
                                              "Transport", "All chemistry", "Wet deposition")}
        self.substeps_taken = 0

    def pbl_height(self, seconds: float) -> np.ndarray:
        return pbl_height(self.grid.lon, self.land_fraction, seconds % DAY)

    def step(self, seconds: float, dt: float) -> None:
        """Advance all processes by ``dt`` seconds starting at ``seconds``."""
        clock = time.perf_counter
        q, atm, dp = self.q, self.atm, self.atm.dp_pa
        mid = seconds + 0.5 * dt

        t0 = clock()
        if self.ops.emissions:
            # mol m-2 -> mol/mol in the surface layer (dp/g/M_air mol of air per m2).
            q[0, 0] += self.emission * dt * MW_AIR * G0 / dp[0]
        t1 = clock(); self.timers["HEMCO"] += t1 - t0
        if self.ops.pbl_mixing:
            mix_below(q, dp, pbl_levels(atm.z_edge, self.pbl_height(mid)))
        t2 = clock(); self.timers["Boundary layer mixing"] += t2 - t1
        if self.ops.convection:
            mix_below(q, dp, atm.trop_levels, 1.0 - np.exp(-dt / self.convection_tau))
            mix_below(q, dp, np.full(self.grid.ncell, self.vertical.nlev),
                      1.0 - math.exp(-dt / STRAT_EXCHANGE_LIFETIME_S))
        t3 = clock(); self.timers["Convection"] += t3 - t2
        if self.ops.transport:
            psi = self.winds.psi(self.grid.vertex_lon, self.grid.vertex_lat, mid)
            flux = self.advection.face_fluxes(psi)
            self.substeps_taken += self.advection.step(q, flux, dt)
        t4 = clock(); self.timers["Transport"] += t4 - t3
        if self.ops.chemistry:
            q[0], q[1] = decay(q[0], q[1], dt)
        t5 = clock(); self.timers["All chemistry"] += t5 - t4
        if self.ops.deposition:
            below = np.arange(self.vertical.nlev)[:, None] < atm.trop_levels[None, :]
            q[1] *= np.where(below, math.exp(-dt / PB210_REMOVAL_LIFETIME_S), 1.0)
        self.timers["Wet deposition"] += clock() - t5

    def tracer_mass(self) -> np.ndarray:
        """Moles of each tracer in the domain (ntracer,)."""
        return (self.q * self.atm.air_mass[None]).sum(axis=(1, 2)) / MW_AIR
