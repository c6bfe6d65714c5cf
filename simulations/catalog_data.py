"""Plain tables behind `simulations.catalog` (GEOS-Chem 14.7.0).

Only data lives here; `catalog.py` wraps it in small lookup functions. Each table says
where it comes from. "createRunDir.sh" means `run/GCClassic/createRunDir.sh` or
`run/GCHP/createRunDir.sh` in geoschem/geos-chem; "GEOSCHEM.md" means the project's
shared/GEOSCHEM.md.
"""

from datetime import datetime

# --- Simulations -----------------------------------------------------------------------
# GCClassic 14.7 menu (CH4, CO2 and tagCO retired in 14.7.0 into `carbon`); GCHP 14.7
# createRunDir.sh offers four.
SIMULATIONS = {
    "classic": ("fullchem", "aerosol", "carbon", "Hg", "POPs", "tagO3", "TransportTracers", "metals"),
    "gchp": ("fullchem", "TransportTracers", "carbon", "tagO3"),
}

# Extra options ("sim_extra_option" in createRunDir.sh), spelled as the script spells them
# because they end up in the default run directory name. Both models offer the same
# fullchem and carbon lists in 14.7. `none_aliases` are the words meaning "no option"
# (the script stores "none"); `required` means the script forces a choice.
SIMULATION_OPTIONS = {
    "fullchem": {
        "choices": ("benchmark", "complexSOA", "complexSOA_SVPOA", "marinePOA", "aciduptake",
                    "TOMAS15", "TOMAS40", "APM", "RRTMG"),
        "none_aliases": ("Standard", "none"),
        "required": False,
    },
    "POPs": {"choices": ("BaP", "PHE", "PYR"), "none_aliases": (), "required": True},
    # "all" = every carbon species advected; the others keep one advected species.
    "carbon": {"choices": ("CH4", "CO2", "CO", "OCS"), "none_aliases": ("all", "none"), "required": False},
}

# --- Meteorology ---------------------------------------------------------------------------
# first_date: earliest date the GEOS-Chem archive serves.
#  MERRA2: MERRA-2 begins 1980-01-01 (GMAO; createRunDir.sh writes "# 1980-2021" as the
#          GMAO availability comment).
#  GEOSFP: the GEOS-Chem GEOS-FP archive starts 2011-01-01 (its constant CN file is
#          GEOSFP.20110101.CN.025x03125.nc, as used by geoschem/integrated_methane_inversion
#          src/utilities/crop_met.sh).
#  GEOSIT: GEOS-IT covers 1998 onward (GMAO GEOS-IT description).
#  ModelE2.1: bounded by the chosen scenario's years instead (see SCENARIOS).
# last_date None = open-ended: the archive keeps growing.
MET_FIELDS = {
    "MERRA2": {"label": "MERRA-2", "dir_name": "merra2", "first_date": datetime(1980, 1, 1),
               "last_date": None, "models": ("classic", "gchp"), "levels": (72, 47)},
    "GEOSFP": {"label": "GEOS-FP", "dir_name": "geosfp", "first_date": datetime(2011, 1, 1),
               "last_date": None, "models": ("classic", "gchp"), "levels": (72, 47)},
    "GEOSIT": {"label": "GEOS-IT", "dir_name": "geosit", "first_date": datetime(1998, 1, 1),
               "last_date": None, "models": ("classic", "gchp"), "levels": (72, 47)},
    "ModelE2.1": {"label": "GISS ModelE2.1 (GCAP 2.0)", "dir_name": "ModelE2.1",
                  "first_date": datetime(1851, 1, 1), "last_date": None,
                  "models": ("classic",), "levels": (40,)},
}

# GCAP 2.0 scenarios, from the ModelE2.1 menu of GCClassic createRunDir.sh (code = the
# script's scenario, runid = its GISS run id; years are inclusive calendar years).
SCENARIOS = {
    "HIST": {"label": "Historical", "runid": "E213f10aF40oQ40",
             "years": ((1851, 1860), (2001, 2014))},
    "HIST-nudged": {"label": "Historical nudged to MERRA-2", "runid": "E213f10aF40oQ40nudge",
                    "years": ((2001, 2014),)},
    "SSP119": {"label": "SSP1-1.9", "runid": "E213SSP119aF40oQ40", "years": ((2040, 2049), (2090, 2099))},
    "SSP126": {"label": "SSP1-2.6", "runid": "E213SSP126aF40oQ40", "years": ((2040, 2049), (2090, 2099))},
    "SSP434": {"label": "SSP4-3.4", "runid": "E213SSP434aF40oQ40", "years": ((2040, 2049), (2090, 2099))},
    "SSP245": {"label": "SSP2-4.5", "runid": "E213SSP245aF40oQ40", "years": ((2040, 2049), (2090, 2099))},
    "SSP460": {"label": "SSP4-6.0", "runid": "E213SSP460aF40oQ40", "years": ((2040, 2049), (2090, 2099))},
    "SSP370": {"label": "SSP3-7.0", "runid": "E213SSP370aF40oQ40", "years": ((2040, 2049), (2090, 2099))},
    "SSP585": {"label": "SSP5-8.5", "runid": "E213SSP585aF40oQ40", "years": ((2040, 2049), (2090, 2099))},
}

# --- GCClassic lat-lon grids ----------------------------------------------------------
# geoschem_name: as geoschem_config.yml writes it; dir_name: as the run directory name
# writes it; met: the met fields createRunDir.sh offers at that resolution (GEOS-IT at
# 0.5x0.625 is TransportTracers-only and global-only, see catalog.py); timesteps
# (transport, chemistry) in seconds from createRunDir.sh, TOMAS override at coarse grids.
LATLON_GRIDS = {
    "4x5": {"geoschem_name": "4.0x5.0", "dir_name": "4x5", "dlat": 4.0, "dlon": 5.0,
            "met": ("MERRA2", "GEOSFP", "GEOSIT", "ModelE2.1"), "timesteps": (600, 1200),
            "tomas_timesteps": (1800, 3600)},
    "2x2.5": {"geoschem_name": "2.0x2.5", "dir_name": "2x25", "dlat": 2.0, "dlon": 2.5,
              "met": ("MERRA2", "GEOSFP", "GEOSIT", "ModelE2.1"), "timesteps": (600, 1200),
              "tomas_timesteps": (1800, 3600)},
    "0.5x0.625": {"geoschem_name": "0.5x0.625", "dir_name": "05x0625", "dlat": 0.5, "dlon": 0.625,
                  "met": ("MERRA2", "GEOSFP", "GEOSIT", "ModelE2.1"), "timesteps": (300, 600),
                  "tomas_timesteps": None},
    "0.25x0.3125": {"geoschem_name": "0.25x0.3125", "dir_name": "025x03125", "dlat": 0.25,
                    "dlon": 0.3125, "met": ("GEOSFP", "ModelE2.1"), "timesteps": (300, 600),
                    "tomas_timesteps": None},
    "0.125x0.15625": {"geoschem_name": "0.125x0.15625", "dir_name": "0125x015625", "dlat": 0.125,
                      "dlon": 0.15625, "met": ("GEOSFP",), "timesteps": (150, 300),
                      "tomas_timesteps": None},
}

# Resolutions at which createRunDir.sh offers the domain menu (nested regions + custom).
NESTED_RESOLUTIONS = ("0.5x0.625", "0.25x0.3125", "0.125x0.15625")

# Nested regions: box per resolution as (lon_west, lon_east, lat_south, lat_north).
# AS, EU, NA: createRunDir.sh (0.5x0.625 boxes; the 0.25x0.3125 boxes are reused for
# 0.125x0.15625 by the script version that added that grid).
# SA: the box of the IMI's cropped GEOS-FP 0.25x0.3125 South America met fields
#     (integrated_methane_inversion src/utilities/crop_met.sh); the 14.7.0 script text
#     could not be read from the stored copies, so this box awaits a check against it.
# AF, ME, OC, RU: offered by createRunDir.sh since 14.6.0, but their boxes could not be
#     read from the stored copies of the script: None = "not in the catalog yet"; config
#     validation asks for a custom box instead of guessing.
NESTED_REGIONS = {
    "AS": {"label": "Asia", "boxes": {
        "0.5x0.625": (60.0, 150.0, -11.0, 55.0),
        "0.25x0.3125": (70.0, 140.0, 15.0, 55.0),
        "0.125x0.15625": (70.0, 140.0, 15.0, 55.0)}},
    "EU": {"label": "Europe", "boxes": {
        "0.5x0.625": (-30.0, 50.0, 30.0, 70.0),
        "0.25x0.3125": (-15.0, 40.0, 32.75, 61.25),
        "0.125x0.15625": (-15.0, 40.0, 32.75, 61.25)}},
    "NA": {"label": "North America", "boxes": {
        "0.5x0.625": (-140.0, -40.0, 10.0, 70.0),
        "0.25x0.3125": (-130.0, -60.0, 9.75, 60.0),
        "0.125x0.15625": (-130.0, -60.0, 9.75, 60.0)}},
    "SA": {"label": "South America", "boxes": {
        "0.25x0.3125": (-88.0, -31.0, -59.0, 16.0),
        "0.125x0.15625": (-88.0, -31.0, -59.0, 16.0)}},
    "AF": {"label": "Africa", "boxes": {"0.25x0.3125": None, "0.125x0.15625": None}},
    "ME": {"label": "Middle East", "boxes": {"0.25x0.3125": None}},
    "OC": {"label": "Oceania", "boxes": {"0.25x0.3125": None}},
    "RU": {"label": "Russia", "boxes": {"0.25x0.3125": None}},
}

# --- GCHP ------------------------------------------------------------------------------
CS_RESOLUTIONS = (24, 48, 90, 180, 360, 720)

# Memory (GB per node) a GCHP run at each resolution wants, from GEOSCHEM.md section 2
# ("at least 32 GB (C24); C90 and finer want 2+ nodes of 24+ cores and 100+ GB each").
# C48 is not stated there; 32 GB is the C24 figure carried over. Nothing validates these
# yet: instance types come later.
GCHP_MEMORY = {
    24: {"gb_per_node": 32, "min_nodes": 1},
    48: {"gb_per_node": 32, "min_nodes": 1},
    90: {"gb_per_node": 100, "min_nodes": 2},
    180: {"gb_per_node": 100, "min_nodes": 2},
    360: {"gb_per_node": 100, "min_nodes": 2},
    720: {"gb_per_node": 100, "min_nodes": 2},
}
# GEOS-Chem Classic memory, GEOSCHEM.md section 7 ("4x5 8-15 GB; 2x2.5 30-40 GB"): the top
# of each range. Nested grids: no figure yet.
CLASSIC_MEMORY_GB = {"4x5": 15, "2x2.5": 40}

# --- Dates -----------------------------------------------------------------------------
# Default simulation period per simulation, from createRunDir.sh (GEOSCHEM.md section 2):
# one month starting on the date of the shipped restart file.
DEFAULT_START = {
    "fullchem": datetime(2019, 7, 1), "aerosol": datetime(2019, 7, 1),
    "tagO3": datetime(2019, 7, 1), "POPs": datetime(2019, 7, 1),
    "Hg": datetime(2019, 1, 1), "carbon": datetime(2019, 1, 1),
    "TransportTracers": datetime(2019, 1, 1), "metals": datetime(2011, 1, 1),
}
# 0.125x0.15625 runs default to 2023-01-01 (GEOSCHEM.md section 2).
DEFAULT_START_0125 = datetime(2023, 1, 1)

# GEOS-FP switched from RAS to Grell-Freitas convection on this date; GCHP createRunDir.sh
# makes the user acknowledge it and recommends that no run span it.
GEOSFP_CONVECTION_CHANGE = datetime(2020, 6, 1)

# --- HISTORY collections -----------------------------------------------------------------
# Collections a researcher may request, per model. GCHP: the Diag_Collections list of
# setCommonRunSettings.sh (less DefaultCollection, which is MAPL's own). Classic: the
# collections of the GCClassic HISTORY.rc.templates. Restart is not listed: it is always
# written.
HISTORY_COLLECTIONS = {
    "classic": ("AdvFluxVert", "AerosolMass", "Aerosols", "BoundaryConditions", "Budget",
                "CloudConvFlux", "ConcAfterChem", "DryDep", "JValues", "KppDiags",
                "LevelEdgeDiags", "Metrics", "ProdLoss", "RadioNuclide", "RRTMG", "RxnConst",
                "RxnRates", "SatDiagn", "SatDiagnEdge", "SpeciesConc", "StateChm", "StateMet",
                "UVFlux", "WetLossConv", "WetLossLS"),
    "gchp": ("AerosolMass", "Aerosols", "Budget", "CloudConvFlux", "ConcAfterChem", "DryDep",
             "Emissions", "JValues", "KppDiags", "LevelEdgeDiags", "Metrics", "ProdLoss",
             "RadioNuclide", "RRTMG", "SpeciesConc", "StateChm", "StateMet", "Transport",
             "WetLossConv", "WetLossLS"),
}
# Collections that exist only for some simulations (the templates of the others lack
# them); any collection not listed here is offered for every simulation of the model.
COLLECTION_SIMULATIONS = {
    "AerosolMass": ("fullchem", "aerosol"),
    "Aerosols": ("fullchem", "aerosol"),
    "JValues": ("fullchem", "Hg"),
    "UVFlux": ("fullchem", "Hg"),
    "KppDiags": ("fullchem", "Hg", "carbon"),
    "RxnRates": ("fullchem", "Hg", "carbon"),
    "RxnConst": ("fullchem", "Hg", "carbon"),
    "ProdLoss": ("fullchem", "aerosol", "Hg", "carbon", "tagO3"),
    "RadioNuclide": ("TransportTracers", "fullchem", "aerosol"),
    "RRTMG": ("fullchem",),
    "Metrics": ("fullchem", "carbon"),
    # Wet deposition needs soluble species, which carbon and tagO3 lack.
    "WetLossConv": ("fullchem", "aerosol", "Hg", "POPs", "TransportTracers", "metals"),
    "WetLossLS": ("fullchem", "aerosol", "Hg", "POPs", "TransportTracers", "metals"),
}

# Fields written per collection. Representative wildcard entries from the 14.x HISTORY.rc
# templates, not every field a template lists; the GEOS-Chem wildcards ?ALL? ?ADV? ?DRY?
# ?WET? expand inside the model.
COLLECTION_FIELDS = {
    "Restart": ("SpeciesRst_?ALL?", "Met_DELPDRY", "Met_PS1WET", "Met_PS1DRY", "Met_SPHU1",
                "Met_TMPU1"),
    "SpeciesConc": ("SpeciesConcVV_?ALL?",),
    "StateMet": ("Met_AD", "Met_AIRDEN", "Met_AIRVOL", "Met_BXHEIGHT", "Met_DELP", "Met_PBLH",
                 "Met_PMID", "Met_PS1WET", "Met_SPHU", "Met_T", "Met_TropP", "Met_U", "Met_V"),
    "AdvFluxVert": ("AdvFluxVert_?ADV?",),
    "AerosolMass": ("AerMassBC", "AerMassNH4", "AerMassNIT", "AerMassSO4", "PM25", "TotalOA"),
    "Aerosols": ("AODDust", "AODHyg550nm_?HYG?", "AODSOAfromAqIsopreneWL1"),
    "BoundaryConditions": ("SpeciesBC_?ADV?",),
    "Budget": ("BudgetEmisDryDepFull_?ADV?", "BudgetChemistryFull_?ADV?",
               "BudgetTransportFull_?ADV?", "BudgetMixingFull_?ADV?",
               "BudgetConvectionFull_?ADV?", "BudgetWetDepFull_?WET?"),
    "CloudConvFlux": ("CloudConvFlux_?ADV?",),
    "ConcAfterChem": ("OHconcAfterChem", "HO2concAfterChem", "O1DconcAfterChem"),
    "DryDep": ("DryDepVel_?DRY?", "DryDep_?DRY?"),
    "Emissions": ("EmisCO_Total", "EmisNO_Total", "EmisRn222_Total"),
    "JValues": ("Jval_?PHO?",),
    "KppDiags": ("KppIntCounts", "KppJacCounts", "KppTotSteps", "KppRejSteps"),
    "LevelEdgeDiags": ("Met_CMFMC", "Met_PEDGE", "Met_PEDGEDRY"),
    "Metrics": ("AirMassColumnFull", "LossOHbyCH4columnTrop", "LossOHbyMCFcolumnTrop",
                "OHwgtByAirMassColumnFull"),
    "ProdLoss": ("Prod_?PRD?", "Loss_?LOS?"),
    "RadioNuclide": ("PbFromRnDecay", "RadDecay_Rn222", "RadDecay_Pb210", "RadDecay_Be7",
                     "RadDecay_Be10"),
    "RRTMG": ("RadAllSkyLWSurf_?RRTMG?", "RadAllSkySWSurf_?RRTMG?"),
    "RxnConst": ("RxnConst_?ALL?",),
    "RxnRates": ("RxnRate_?ALL?",),
    "SatDiagn": ("SatDiagnConc_?ADV?",),
    "SatDiagnEdge": ("SatDiagnPEDGE",),
    "StateChm": ("Chem_phSav", "Chem_HplusSav", "Chem_WaterSav"),
    "Transport": ("AdvFluxVert_?ADV?",),
    "UVFlux": ("UVFluxDiffuse", "UVFluxDirect", "UVFluxNet"),
    "WetLossConv": ("WetLossConv_?WET?",),
    "WetLossLS": ("WetLossLS_?WET?",),
}

# --- Transported species ---------------------------------------------------------------------
# TransportTracers: the transported_species list of the GCClassic
# geoschem_config.yml.TransportTracers template (read from a 14.x copy; check against the
# 14.7.0 tag when the runner relies on it). The other lists are short representative
# subsets, not the full mechanism: real GEOS-Chem takes its list from its own run
# directory template; the demo model only needs names to write.
TRANSPORTED_SPECIES = {
    "TransportTracers": ("Rn222", "Pb210", "Pb210s", "Be7", "Be7s", "Be10", "Be10s", "aoa",
                         "aoa_bl", "aoa_nh", "SF6", "CH3I", "CO_25", "CO_50", "e90", "e90_n",
                         "e90_s", "nh_50", "nh_5", "st80_25", "stOX"),
    "fullchem": ("O3", "NO", "NO2", "HNO3", "CO", "CH2O", "ISOP", "SO2", "SO4", "NH3", "NIT",
                 "BCPI", "OCPI", "DST1", "SALA"),
    "aerosol": ("SO2", "SO4", "NH3", "NH4", "NIT", "BCPI", "BCPO", "OCPI", "OCPO", "DST1", "SALA"),
    "carbon": ("CH4", "CO", "CO2", "OCS"),
    "Hg": ("Hg0", "Hg2HgCl2", "Hg2ORGP", "HgBr"),
    "tagO3": ("O3", "O3Strat", "O3Ut", "O3Mt", "O3Row", "O3PcBl", "O3NaBl", "O3AtBl", "O3EuBl",
              "O3AfBl", "O3AsBl"),
    "metals": ("Be7", "Pb210"),
    "POPs": ("POPG", "POPPOCPO", "POPPBCPO", "POPPOCPI", "POPPBCPI"),
}

# --- The demo model ------------------------------------------------------------------------
# The embedded radon/lead tracer model writes GEOS-Chem-format files on these grids only.
DEMO_CLASSIC_RESOLUTIONS = ("4x5", "2x2.5", "0.5x0.625")
DEMO_NESTED_ONLY = ("0.5x0.625",)
DEMO_CS_RESOLUTIONS = (24, 48)
DEMO_COLLECTIONS = ("SpeciesConc", "StateMet")
