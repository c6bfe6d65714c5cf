"""The six steps of the new-simulation wizard (simulations/wizard.py runs them).

The forms only collect. Each turns its fields into its part of a raw configuration (the keys of
simulations/config.py, `fragment()`), and `StepForm.clean` hands the configuration built from
the earlier steps, this one and defaults to `services.config_check`, which judges with the
catalog's own messages. Each message is shown at the step that chooses its key (KEY_STEPS):

    type      1 Simulation type       model, simulation, options
    domain    2 Domain and resolution resolution, domain (domain.*), levels, stretch (stretch.*)
    science   3 Scientific setup      met, scenario, start, end, outputs (outputs.*), segment_days
    compute   4 Compute resources     compute (compute.*)
    cost      5 Cost estimation       (no keys: it shows the estimate)
    review    6 Review and submit     name (and the research group, which is not a config key)

A message about the whole configuration (key "") is shown at the step being validated. A
message about a key of an earlier step (a resolution the chosen meteorology cannot do, levels
ModelE2.1 does not have) is kept in `earlier_errors`; the wizard sends the user back to that
step and shows it there. Messages about later steps are not shown yet: their keys still hold
defaults, and a default is chosen to fit what is chosen so far (`with_defaults`).

Dependent choices (simulations of the model, collections of the simulation, resolutions of the
model, regions at a resolution) come from the earlier steps on the server; static/js/wizard.js
only hides what does not apply while the page is open.
"""

from __future__ import annotations

from django import forms
from django.urls import reverse_lazy
from django.utils.text import format_lazy

from simulations import catalog, services
from simulations.config import FieldError

STEPS = ("type", "domain", "science", "compute", "cost", "review")
STEP_TITLES = {
    "type": "Simulation type",
    "domain": "Domain and resolution",
    "science": "Scientific configuration",
    "compute": "Compute resources",
    "cost": "Cost estimation",
    "review": "Review and submit",
}
KEY_STEPS = {
    "model": "type", "simulation": "type", "options": "type",
    "resolution": "domain", "domain": "domain", "levels": "domain", "stretch": "domain",
    "met": "science", "scenario": "science", "start": "science", "end": "science", "outputs": "science",
    "segment_days": "science",
    "compute": "compute",
    "name": "review", "group": "review",
}

GC_DOCS = "https://geos-chem.readthedocs.io/en/latest/"
GCHP_DOCS = "https://gchp.readthedocs.io/en/latest/"
# Field -> (title, URL) of the GEOS-Chem documentation section it corresponds to; a (classic,
# gchp) pair where the two models document it in different places.
DOCS = {
    "model": ("GEOS-Chem Classic or GCHP", GC_DOCS),
    "simulation": (("Creating a run directory: the simulation menu", GC_DOCS + "gcclassic-user-guide/create-rundir.html"),
                   ("Creating a GCHP run directory", GCHP_DOCS + "user-guide/rundir-init.html")),
    "option": ("Full-chemistry run directory options", GC_DOCS + "gcclassic-user-guide/rundir-fullchem.html"),
    "resolution": (("geoschem_config.yml: the grid", GC_DOCS + "gcclassic-user-guide/geoschem-config.html"),
                   ("GCHP run configuration: resolution", GCHP_DOCS + "user-guide/rundir-config.html")),
    "domain": ("geoschem_config.yml: nested grids", GC_DOCS + "gcclassic-user-guide/geoschem-config.html"),
    "levels": ("geoschem_config.yml: number_of_levels", GC_DOCS + "gcclassic-user-guide/geoschem-config.html"),
    "stretch_factor": ("GCHP stretched grids", GCHP_DOCS + "supplement/stretched-grid.html"),
    "target_lat": ("GCHP stretched grids: the target point", GCHP_DOCS + "supplement/stretched-grid.html"),
    "target_lon": ("GCHP stretched grids: the target point", GCHP_DOCS + "supplement/stretched-grid.html"),
    "met": (("geoschem_config.yml: met_field", GC_DOCS + "gcclassic-user-guide/geoschem-config.html"),
            ("Creating a GCHP run directory: meteorology", GCHP_DOCS + "user-guide/rundir-init.html")),
    "scenario": ("Creating a run directory: GCAP 2.0 scenarios", GC_DOCS + "gcclassic-user-guide/create-rundir.html"),
    "start": (("geoschem_config.yml: start_date and end_date", GC_DOCS + "gcclassic-user-guide/geoschem-config.html"),
              ("setCommonRunSettings.sh: simulation duration",
               GCHP_DOCS + "user-guide/config-files/setCommonRunSettings_sh.html")),
    "end": (("geoschem_config.yml: start_date and end_date", GC_DOCS + "gcclassic-user-guide/geoschem-config.html"),
            ("setCommonRunSettings.sh: simulation duration",
             GCHP_DOCS + "user-guide/config-files/setCommonRunSettings_sh.html")),
    "segment_days": (("Restart files", GC_DOCS + "gcclassic-user-guide/restart-files.html"),
                     ("cap_restart", GCHP_DOCS + "user-guide/config-files/cap_restart.html")),
    "outputs": (("HISTORY.rc: diagnostic collections", GC_DOCS + "gcclassic-user-guide/history.html"),
                ("GCHP HISTORY.rc", GCHP_DOCS + "user-guide/config-files/HISTORY_rc.html")),
    "instance_type": (("Speeding up GEOS-Chem Classic (cores and threads)", GC_DOCS + "gcclassic-user-guide/run-speedup.html"),
                      ("GCHP run configuration: nodes and cores", GCHP_DOCS + "user-guide/rundir-config.html")),
    "cores_per_node": (("Speeding up GEOS-Chem Classic (OpenMP threads)", GC_DOCS + "gcclassic-user-guide/run-speedup.html"),
                       ("GCHP run configuration: nodes and cores", GCHP_DOCS + "user-guide/rundir-config.html")),
    "nodes": ("GCHP run configuration: nodes and cores", GCHP_DOCS + "user-guide/rundir-config.html"),
    "name": ("Creating a run directory: its default name", GC_DOCS + "gcclassic-user-guide/create-rundir.html"),
    # Not GEOS-Chem's: how this platform handles Spot capacity.
    "capacity": ("Spot and interruptions on this platform", format_lazy("{}#spot", reverse_lazy("help"))),
}

MODEL_CHOICES = [
    ("classic", "GEOS-Chem Classic — one node, OpenMP threads, lat-lon grids"),
    ("gchp", "GCHP — MPI on one or many nodes, cubed-sphere grids"),
]
SIMULATION_LABELS = {
    "fullchem": "fullchem — full chemistry (tropospheric and stratospheric)",
    "aerosol": "aerosol — aerosol-only",
    "carbon": "carbon — CH4, CO, CO2 and OCS",
    "Hg": "Hg — mercury",
    "POPs": "POPs — persistent organic pollutants",
    "tagO3": "tagO3 — tagged ozone",
    "TransportTracers": "TransportTracers — radionuclides and passive tracers",
    "metals": "metals — trace metals",
}
OPTION_SIMULATIONS = ("fullchem", "POPs", "carbon")
DEFAULT_SIMULATION = "fullchem"
FREQUENCY_LABELS = {"hourly": "hourly", "3-hourly": "every 3 hours", "6-hourly": "every 6 hours", "daily": "daily",
                    "monthly": "monthly", "end": "once, at the end"}
FEATURED_COLLECTIONS = ("SpeciesConc", "StateMet")  # shown first; the rest fold away
SHORT_MET_NAMES = {"MERRA2": "MERRA-2", "GEOSFP": "GEOS-FP", "GEOSIT": "GEOS-IT", "ModelE2.1": "ModelE2.1"}


def step_of(field: str) -> str | None:
    """The step that chooses a dotted configuration key; None for the whole configuration."""
    return KEY_STEPS.get(field.split(".")[0]) if field else None


def with_defaults(raw: dict) -> dict:
    """`raw` with a meteorology that fits the grid chosen so far when none is chosen yet.

    parse_config's own default is MERRA-2, which has no 0.25 or 0.125 degree grid: validating
    step 2 with it would blame the resolution for a choice the user has not made. The first
    meteorology createRunDir.sh offers at that grid (MERRA-2 first) stands in until step 3."""
    if raw.get("met") or raw.get("model", "classic") != "classic":
        return raw
    resolution = catalog.latlon_resolution_named(str(raw.get("resolution", "4x5")))
    if resolution is None:
        return raw
    simulation = raw.get("simulation") or DEFAULT_SIMULATION
    nested = raw.get("domain", "global") != "global"
    for met in catalog.mets_for_resolution(resolution):
        if met == "ModelE2.1":
            continue  # it needs a scenario, chosen at step 3
        if catalog.met_allows_resolution(met, resolution, simulation) and not (
                nested and not catalog.nested_allowed(resolution, met)):
            return {**raw, "met": met}
    return raw


def _doc(name: str, model: str) -> tuple[str, str] | None:
    entry = DOCS.get(name)
    if entry is None:
        return None
    if isinstance(entry[0], tuple):
        return entry[1] if model == "gchp" else entry[0]
    return entry


class StepForm(forms.Form):
    """One step: collects fields, then lets config_check judge everything chosen so far.

    `earlier` is the raw configuration of the steps before this one (None when one of them is
    not valid: the wizard sends the user there first); `user` the researcher."""

    step = ""
    # Dotted key prefix -> field; the longest matching prefix places a message beside its field.
    ERROR_FIELDS: dict[str, str] = {}

    def __init__(self, *args, earlier: dict | None = None, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.earlier = earlier
        self.user = user
        self.model = (earlier or {}).get("model", "classic")
        self.earlier_errors: dict[str, list[FieldError]] = {}
        self.config = None  # the RunConfig once everything so far (and the defaults) is valid
        self.setup()
        for name, field in self.fields.items():
            field.doc = _doc(name, self.model)

    def setup(self) -> None:
        """Add or narrow fields from the earlier steps' choices."""

    def fragment(self) -> dict:
        """This step's part of the raw configuration, from cleaned_data."""
        return {}

    def field_for(self, key: str) -> str | None:
        best = None
        for prefix, name in self.ERROR_FIELDS.items():
            if (key == prefix or key.startswith(prefix + ".")) and (best is None or len(prefix) > len(best[0])):
                best = (prefix, name)
        return best[1] if best and best[1] in self.fields else None

    def raw_config(self) -> dict:
        return with_defaults({**(self.earlier or {}), **self.fragment()})

    def clean(self):
        cleaned = super().clean()
        if self.earlier is None:
            raise forms.ValidationError("Complete the earlier steps first.")
        if self.errors:
            return cleaned  # a field could not even be read; fix that first
        cfg, errors = services.config_check(self.raw_config())
        here = STEPS.index(self.step)
        for error in errors:
            step = step_of(error.field) or self.step
            if step == self.step:
                self.add_error(self.field_for(error.field), error.message)
            elif STEPS.index(step) < here:
                self.earlier_errors.setdefault(step, []).append(error)
        for step, found in self.earlier_errors.items():
            for error in found:
                self.add_error(None, f"Step {STEPS.index(step) + 1} ({STEP_TITLES[step]}): {error.message}")
        if not errors:
            self.config = cfg
        return cleaned


def _keep_bound_choice(form: StepForm, name: str) -> None:
    """Offer a bound value the choices lack (kept from an earlier visit, a preset or a clone)
    so that config_check, not "select a valid choice", says what is wrong with it."""
    if not form.is_bound or name not in form.fields:
        return
    value = form.data.get(form.add_prefix(name))
    field = form.fields[name]
    known = {str(key) for key, label in field.choices if not isinstance(label, (list, tuple))}
    known |= {str(key) for _, group in field.choices if isinstance(group, (list, tuple)) for key, _ in group}
    if value and value not in known:
        field.choices = list(field.choices) + [(value, f"{value} (not offered here)")]


# --- 1. Simulation type ---------------------------------------------------------------------------

class TypeForm(StepForm):
    step = "type"
    ERROR_FIELDS = {"model": "model", "simulation": "simulation", "options": "option"}

    model = forms.ChoiceField(choices=MODEL_CHOICES, initial="classic", widget=forms.RadioSelect,
                              help_text="Classic runs on one machine; GCHP spreads a run over MPI processes and nodes.")
    simulation = forms.ChoiceField(
        choices=[(sim, SIMULATION_LABELS[sim]) for sim in catalog.simulations("classic")], initial=DEFAULT_SIMULATION,
        help_text="The chemistry GEOS-Chem runs; GCHP 14.7 offers fullchem, TransportTracers, carbon and tagO3.")
    option = forms.ChoiceField(
        required=False, label="Extra option",
        help_text="One extra option at a time; POPs needs its species; carbon may keep one species.")

    def setup(self):
        choices = [("", "none (Standard; carbon: all species)")]
        for sim in OPTION_SIMULATIONS:
            spec = catalog.option_spec(sim)
            choices.append((sim, [(choice, choice) for choice in spec["choices"]]))
        self.fields["option"].choices = choices
        for name in ("model", "simulation", "option"):
            _keep_bound_choice(self, name)

    def fragment(self):
        option = self.cleaned_data.get("option")
        return {"model": self.cleaned_data.get("model"), "simulation": self.cleaned_data.get("simulation"),
                "options": [option] if option else []}

    @staticmethod
    def data_from(cfg: dict) -> dict:
        options = cfg.get("options") or []
        return {"model": cfg.get("model", "classic"), "simulation": cfg.get("simulation", DEFAULT_SIMULATION),
                "option": options[0] if options else ""}

    def simulation_models(self) -> dict[str, str]:
        """simulation -> the models offering it, for wizard.js."""
        return {sim: " ".join(m for m in catalog.MODELS if sim in catalog.simulations(m))
                for sim in catalog.simulations("classic")}


# --- 2. Domain and resolution ----------------------------------------------------------------------

def _box_text(box) -> str:
    west, east, south, north = box
    return f"lon {west:g} to {east:g}, lat {south:g} to {north:g}"


class DomainForm(StepForm):
    step = "domain"
    ERROR_FIELDS = {"resolution": "resolution", "domain": "domain", "domain.custom": "lon_west",
                    "domain.lon": "lon_west", "domain.custom.lon": "lon_west", "domain.lat": "lat_south",
                    "domain.custom.lat": "lat_south", "levels": "levels", "stretch": "stretch_factor",
                    "stretch.factor": "stretch_factor", "stretch.target_lat": "target_lat",
                    "stretch.target_lon": "target_lon"}

    resolution = forms.ChoiceField(help_text="Horizontal grid; finer grids cost roughly 4x more per halving.")
    domain = forms.ChoiceField(
        required=False, initial="global",
        help_text="Global, a nested region (0.5° and finer; needs boundary conditions from a global run) or your own box.")
    lon_west = forms.FloatField(required=False, label="West", min_value=-180, max_value=180)
    lon_east = forms.FloatField(required=False, label="East", min_value=-180, max_value=180)
    lat_south = forms.FloatField(required=False, label="South", min_value=-90, max_value=90)
    lat_north = forms.FloatField(required=False, label="North", min_value=-90, max_value=90)
    levels = forms.ChoiceField(
        required=False, choices=[("", "72 (native; 40 with GISS ModelE2.1)"), ("47", "47 (reduced stratosphere)")],
        help_text="Vertical levels: the met field's native 72, or 47 with the stratosphere lumped.")
    stretch_factor = forms.FloatField(
        required=False, label="Stretch factor",
        help_text="Leave empty for a uniform cube; at least 1.0001 refines the grid around the target point.")
    target_lat = forms.FloatField(required=False, label="Target latitude", help_text="Degrees north, −90 to 90.")
    target_lon = forms.FloatField(required=False, label="Target longitude",
                                  help_text="Degrees east, −180 to 360 (GCHP itself takes 0 to 360).")

    def setup(self):
        resolutions = catalog.resolutions_for(self.model)
        self.fields["resolution"].choices = [(res, self.resolution_label(res)) for res in resolutions]
        self.fields["resolution"].initial = resolutions[0]
        if self.model == "gchp":
            for name in ("domain", "lon_west", "lon_east", "lat_south", "lat_north", "levels"):
                del self.fields[name]
        else:
            for name in ("stretch_factor", "target_lat", "target_lon"):
                del self.fields[name]
            self.fields["domain"].choices = (
                [("global", "global")]
                + [(code, f"{code} — {region['label']}") for code, region in catalog.NESTED_REGIONS.items()]
                + [("custom", "custom box (draw it on the map)")])
        for name in ("resolution", "domain", "levels"):
            _keep_bound_choice(self, name)

    def resolution_label(self, res: str) -> str:
        if self.model == "gchp":
            about = {24: "about 4x5", 48: "about 2x2.5", 90: "about 1x1.25", 180: "about 0.5x0.625",
                     360: "about 0.25x0.3125", 720: "about 0.125x0.15625"}[catalog.cs_res(res)]
            return f"{res} ({about})"
        mets = ", ".join(SHORT_MET_NAMES[m] for m in catalog.mets_for_resolution(res))
        nested = " or nested" if res in catalog.NESTED_RESOLUTIONS else ""
        return f"{res} — global{nested} ({mets})"

    def cube_rows(self) -> list[dict]:
        """GCHP's cubes: about which lat-lon grid, the most cores, the memory and nodes wanted."""
        rows = []
        for res in catalog.cs_resolution_names():
            cs = catalog.cs_res(res)
            memory = catalog.gchp_memory(cs)
            rows.append({"name": res, "about": self.resolution_label(res).split("(")[1].rstrip(")"),
                         "most": catalog.max_gchp_cores(cs), "gb": memory["gb_per_node"],
                         "nodes": memory["min_nodes"], "demo": cs in catalog.data.DEMO_CS_RESOLUTIONS})
        return rows

    def region_boxes(self) -> dict[str, dict[str, list[float] | None]]:
        """region -> resolution -> box, for the map (None: offered, but not in the catalog yet)."""
        return {code: {res: (list(box) if box else None) for res, box in region["boxes"].items()}
                for code, region in catalog.NESTED_REGIONS.items()}

    def region_rows(self) -> list[dict]:
        """What each region offers, in words (for the page without JavaScript too)."""
        rows = []
        for code, region in catalog.NESTED_REGIONS.items():
            boxes = ", ".join(f"{res} ({_box_text(box)})" if box else f"{res} (box not in the catalog yet)"
                              for res, box in region["boxes"].items())
            rows.append({"code": code, "label": region["label"], "boxes": boxes})
        return rows

    def fragment(self):
        data = self.cleaned_data
        out = {"resolution": data.get("resolution")}
        if self.model == "gchp":
            if data.get("stretch_factor") is not None or data.get("target_lat") is not None \
                    or data.get("target_lon") is not None:
                out["stretch"] = {"factor": data.get("stretch_factor"), "target_lat": data.get("target_lat"),
                                  "target_lon": data.get("target_lon")}
            return out
        domain = data.get("domain") or "global"
        if domain == "custom":
            out["domain"] = {"custom": {"lon": [data.get("lon_west"), data.get("lon_east")],
                                        "lat": [data.get("lat_south"), data.get("lat_north")]}}
        else:
            out["domain"] = domain
        if data.get("levels"):
            out["levels"] = int(data["levels"])
        return out

    @staticmethod
    def data_from(cfg: dict) -> dict:
        data = {"resolution": cfg.get("resolution", "C24" if cfg.get("model") == "gchp" else "4x5")}
        domain = cfg.get("domain", "global")
        if isinstance(domain, dict):
            box = domain.get("custom", domain)
            (west, east), (south, north) = box.get("lon", [None, None]), box.get("lat", [None, None])
            data.update(domain="custom", lon_west=west, lon_east=east, lat_south=south, lat_north=north)
        else:
            data["domain"] = domain
        data["levels"] = "47" if cfg.get("levels") == 47 else ""
        stretch = cfg.get("stretch") or {}
        data.update(stretch_factor=stretch.get("factor"), target_lat=stretch.get("target_lat"),
                    target_lon=stretch.get("target_lon"))
        return data

    def box(self) -> tuple[float, float, float, float] | None:
        """The box the map shows: the custom box, or the region's at the chosen resolution."""
        value = (lambda name: self.data.get(self.add_prefix(name))) if self.is_bound else (
            lambda name: self.initial.get(name, self.fields[name].initial) if name in self.fields else None)
        domain, resolution = value("domain"), value("resolution")
        if domain == "custom":
            try:
                west, east, south, north = (float(value(n)) for n in ("lon_west", "lon_east", "lat_south", "lat_north"))
            except (TypeError, ValueError):
                return None
            return west, east, south, north
        if domain in catalog.NESTED_REGIONS:
            return catalog.region_box(domain, resolution) or catalog.region_any_box(domain)
        return None


# --- 3. Scientific configuration --------------------------------------------------------------------

class ScienceForm(StepForm):
    step = "science"
    ERROR_FIELDS = {"met": "met", "scenario": "scenario", "start": "start", "end": "end",
                    "segment_days": "segment_days"}

    met = forms.ChoiceField(label="Meteorology", help_text="The assimilated or climate-model fields that drive transport.")
    scenario = forms.ChoiceField(required=False, label="GCAP 2.0 scenario",
                                 help_text="GISS ModelE2.1 only: each scenario has meteorology for some decades.")
    start = forms.CharField(required=False, max_length=20, help_text="YYYY-MM-DD (or YYYY-MM-DD HH:MM), UTC.")
    end = forms.CharField(required=False, max_length=20, help_text="The run stops here (exclusive).")
    segment_days = forms.IntegerField(
        required=False, label="Segment length (days)",
        help_text="Empty: one segment per calendar month. Each segment starts from the last one's restart file.")

    def setup(self):
        earlier = self.earlier or {}
        simulation = earlier.get("simulation") or DEFAULT_SIMULATION
        mets = catalog.met_fields_for(self.model)
        self.fields["met"].choices = [(met, self.met_label(met)) for met in mets]
        self.fields["met"].initial = with_defaults(earlier).get("met", "MERRA2")
        if self.model == "gchp":
            del self.fields["scenario"]
        else:
            self.fields["scenario"].choices = [("", "—")] + [
                (code, f"{s['label']} ({catalog.scenario_years_text(code)})") for code, s in catalog.SCENARIOS.items()]
        resolution = earlier.get("resolution") or ("C24" if self.model == "gchp" else "4x5")
        if simulation in catalog.simulations("classic"):
            start, end = catalog.default_period(simulation, resolution)
            self.fields["start"].initial = start.strftime("%Y-%m-%d")
            self.fields["end"].initial = end.strftime("%Y-%m-%d")
        self.collections = list(catalog.history_collections(self.model, simulation))
        if self.is_bound:
            # A collection chosen for another simulation keeps its row, so the catalog can say
            # why it no longer fits instead of it vanishing.
            for name in catalog.all_history_collections(self.model):
                if name not in self.collections and self.data.get(self.add_prefix(f"out_{name}_frequency")):
                    self.collections.append(name)
        frequencies = [(f, FREQUENCY_LABELS[f]) for f in catalog.FREQUENCIES]
        for name in self.collections:
            self.fields[f"out_{name}_frequency"] = forms.ChoiceField(
                required=False, label=f"{name} frequency", choices=[("", "not written")] + frequencies,
                initial="daily" if name == "SpeciesConc" else "")
            self.fields[f"out_{name}_duration"] = forms.ChoiceField(
                required=False, label=f"{name} file duration", choices=[("", "automatic")] + frequencies)
            self.fields[f"out_{name}_mode"] = forms.ChoiceField(
                required=False, label=f"{name} mode", choices=[(m, m) for m in catalog.MODES])
        for name in ("met", "scenario"):
            _keep_bound_choice(self, name)

    def met_label(self, met: str) -> str:
        """The met field's name, with why the grid chosen at step 2 cannot use it, if it cannot."""
        label = catalog.met_label(met) + (" (recommended)" if met == "MERRA2" else "")
        earlier = self.earlier or {}
        resolution = earlier.get("resolution")
        if self.model != "classic" or resolution not in catalog.latlon_resolutions():
            return label
        simulation = earlier.get("simulation") or DEFAULT_SIMULATION
        if not catalog.met_allows_resolution(met, resolution, simulation):
            return f"{label} — not at {resolution}"
        if earlier.get("domain", "global") != "global" and not catalog.nested_allowed(resolution, met):
            return f"{label} — global only at {resolution}"
        if earlier.get("levels") == 47 and 47 not in catalog.levels_for(met):
            return f"{label} — 40 levels only"
        return label

    def field_for(self, key):
        if key.startswith("outputs."):
            parts = key.split(".")
            kind = parts[2] if len(parts) > 2 and parts[2] in ("duration", "mode") else "frequency"
            name = f"out_{parts[1]}_{kind}"
            return name if name in self.fields else None
        return super().field_for(key)

    def output_rows(self) -> list[dict]:
        """One row per collection: its three fields and a few of the fields it writes."""
        rows = []
        for name in self.collections:
            try:
                fields = catalog.collection_fields(name)
            except KeyError:
                fields = ()
            rows.append({"name": name, "frequency": self[f"out_{name}_frequency"],
                         "duration": self[f"out_{name}_duration"], "mode": self[f"out_{name}_mode"],
                         "fields": ", ".join(fields[:3]) + (", ..." if len(fields) > 3 else ""),
                         "featured": name in FEATURED_COLLECTIONS,
                         "demo": name in catalog.DEMO_COLLECTIONS})
        return rows

    def date_rules(self) -> list[dict]:
        """Each meteorology's dates, in words; wizard.js marks the one that applies."""
        rules = []
        for met in catalog.met_fields_for(self.model):
            if met == "ModelE2.1":
                by_years: dict[str, list[str]] = {}
                for code, scenario in catalog.SCENARIOS.items():
                    by_years.setdefault(catalog.scenario_years_text(code), []).append(scenario["label"])
                text = "GISS ModelE2.1: the chosen scenario's years only (" + "; ".join(
                    f"{', '.join(labels)}: {years}" for years, labels in by_years.items()) + ")."
            else:
                first, last = catalog.met_coverage(met)
                text = f"{catalog.met_label(met)}: from {first:%Y-%m-%d}" + (f" to {last:%Y-%m-%d}" if last else " on") + "."
                if met == "GEOSFP":
                    text += (f" A run must not span {catalog.GEOSFP_CONVECTION_CHANGE:%Y-%m-%d}, when GEOS-FP changed "
                             "its convection scheme: end on or before it, or start on or after it.")
            rules.append({"met": met, "text": text})
        return rules

    def fragment(self):
        data = self.cleaned_data
        out = {"met": data.get("met")}
        for key in ("scenario", "start", "end"):
            if data.get(key):
                out[key] = data[key].strip() if isinstance(data[key], str) else data[key]
        if data.get("segment_days") is not None:
            out["segment_days"] = data["segment_days"]
        outputs = {}
        for name in self.collections:
            frequency = data.get(f"out_{name}_frequency")
            if frequency:
                spec = {"frequency": frequency, "mode": data.get(f"out_{name}_mode") or "time-averaged"}
                if data.get(f"out_{name}_duration"):
                    spec["duration"] = data[f"out_{name}_duration"]
                outputs[name] = spec
        if outputs:
            out["outputs"] = outputs
        return out

    @staticmethod
    def data_from(cfg: dict) -> dict:
        data = {"met": catalog.met_named(cfg.get("met", "MERRA2")) or cfg.get("met"),
                "scenario": cfg.get("scenario") or "", "segment_days": cfg.get("segment_days")}
        for key in ("start", "end"):
            value = cfg.get(key)
            text = str(value) if value is not None else ""
            data[key] = text[:10] if text.endswith(" 00:00:00") else text[:16]
        for name, spec in (cfg.get("outputs") or {}).items():
            spec = {"frequency": spec} if isinstance(spec, str) else dict(spec or {})
            data[f"out_{name}_frequency"] = spec.get("frequency", "")
            data[f"out_{name}_duration"] = "" if spec.get("duration") == _auto_duration(spec.get("frequency")) \
                else spec.get("duration", "")
            data[f"out_{name}_mode"] = spec.get("mode", "time-averaged")
        return data


def _auto_duration(frequency: str | None) -> str | None:
    """The duration parse_config gives a frequency when none is asked for."""
    if frequency is None:
        return None
    return "daily" if frequency in catalog.SUB_DAILY else frequency


# --- 4. Compute resources -----------------------------------------------------------------------

class ComputeForm(StepForm):
    step = "compute"
    ERROR_FIELDS = {"compute": "instance_type", "compute.instance_type": "instance_type",
                    "compute.capacity": "capacity", "compute.nodes": "nodes", "compute.cores_per_node": "cores_per_node"}

    instance_type = forms.ChoiceField(
        required=False, help_text="The EC2 machine per node; the estimate (next step) compares them all.")
    capacity = forms.ChoiceField(
        choices=[("on-demand", "On-demand — never interrupted"),
                 ("spot", "Spot — usually about half the price; AWS may reclaim the machine")],
        initial="on-demand", widget=forms.RadioSelect,
        help_text="An interrupted Spot segment restarts from its last restart file.")
    nodes = forms.IntegerField(required=False, min_value=1, initial=1,
                               help_text="GCHP only; several nodes need on-demand capacity.")
    cores_per_node = forms.IntegerField(
        required=False, min_value=1, label="Cores per node",
        help_text="Classic: OpenMP threads (use the instance's physical cores); GCHP: MPI processes per node.")

    def setup(self):
        from costs.models import InstanceType

        self.instances = list(InstanceType.objects.order_by("architecture", "family", "physical_cores"))
        groups: dict[str, list] = {}
        for it in self.instances:
            label = f"{it.name} — {it.physical_cores} cores, {it.memory_gib:g} GiB, {it.cpu}" + (", EFA" if it.efa else "")
            groups.setdefault(it.get_architecture_display(), []).append((it.name, label))
        self.fields["instance_type"].choices = [("", "not chosen (the estimate holds the most expensive option)")] + [
            (arch, options) for arch, options in groups.items()]
        if self.model == "gchp":
            self.fields["cores_per_node"].initial = 6
            self.fields["cores_per_node"].help_text = ("MPI processes per node; nodes × cores per node is GCHP's "
                                                       "TOTAL_CORES.")
        else:
            del self.fields["nodes"]
            self.fields["cores_per_node"].label = "OpenMP threads"
            self.fields["cores_per_node"].help_text = ("One per physical core of the instance type (filled in when you "
                                                       "choose one); empty: 1.")
        _keep_bound_choice(self, "instance_type")

    def fragment(self):
        data = self.cleaned_data
        compute = {"instance_type": data.get("instance_type") or None, "capacity": data.get("capacity")}
        if self.model == "gchp" and data.get("nodes") is not None:
            compute["nodes"] = data["nodes"]
        if data.get("cores_per_node") is not None:
            compute["cores_per_node"] = data["cores_per_node"]
        return {"compute": compute}

    @staticmethod
    def data_from(cfg: dict) -> dict:
        compute = cfg.get("compute") or {}
        return {"instance_type": compute.get("instance_type") or "", "capacity": compute.get("capacity", "on-demand"),
                "nodes": compute.get("nodes", 1), "cores_per_node": compute.get("cores_per_node")}

    def gchp_limits(self) -> dict | None:
        """What the catalog allows at the chosen cube: most cores, memory, nodes, nearby valid counts."""
        earlier = self.earlier or {}
        cs = catalog.cs_res(str(earlier.get("resolution", "")))
        if self.model != "gchp" or cs is None:
            return None
        memory = catalog.gchp_memory(cs)
        nodes, cores = self._number("nodes", 1), self._number("cores_per_node", 6)
        total = nodes * cores if nodes and cores else None
        split = catalog.gchp_decomposition(cs, total) if total else None
        return {"resolution": f"C{cs}", "most": catalog.max_gchp_cores(cs), "gb_per_node": memory["gb_per_node"],
                "min_nodes": memory["min_nodes"], "total": total, "split": split,
                "nearby": catalog.nearby_gchp_core_counts(cs, total) if total and not split else ()}

    def _number(self, name: str, default: int) -> int | None:
        value = self.data.get(self.add_prefix(name)) if self.is_bound else self.fields[name].initial
        try:
            return int(value) if value not in (None, "") else default
        except (TypeError, ValueError):
            return None


# --- 5. Cost estimation -------------------------------------------------------------------------

class CostForm(StepForm):
    """No choices: the page shows the estimate of everything chosen so far."""

    step = "cost"

    @staticmethod
    def data_from(cfg: dict) -> dict:
        return {}


# --- 6. Review and submit ---------------------------------------------------------------------------

class ReviewForm(StepForm):
    step = "review"
    ERROR_FIELDS = {"name": "name", "group": "group"}

    name = forms.CharField(required=False, max_length=200,
                           help_text="Empty: GEOS-Chem's run directory name for this configuration.")
    group = forms.ChoiceField(required=False, label="Research group",
                              help_text="Its members can see the run; its budget also applies to it.")
    token = forms.CharField(required=False, widget=forms.HiddenInput)
    preset_name = forms.CharField(required=False, max_length=200, label="Preset name",
                                  help_text="Empty: the run's name. A preset of the same name is replaced.")
    preset_scope = forms.ChoiceField(required=False, label="Save for",
                                     help_text="Yourself, or everyone in one of your research groups.")

    def setup(self):
        from accounts.models import ResearchGroup

        groups = list(ResearchGroup.objects.filter(memberships__user=self.user)) if self.user else []
        self.fields["group"].choices = [("", "none (only I see it)")] + [(g.slug, g.name) for g in groups]
        self.fields["group"].initial = groups[0].slug if len(groups) == 1 else ""
        self.fields["preset_scope"].choices = [("", "me")] + [(g.slug, f"group {g.name}") for g in groups]
        _keep_bound_choice(self, "group")

    def fragment(self):
        name = (self.cleaned_data.get("name") or "").strip()
        return {"name": name} if name else {}

    @staticmethod
    def data_from(cfg: dict) -> dict:
        return {"name": cfg.get("name") or ""}


FORMS = [("type", TypeForm), ("domain", DomainForm), ("science", ScienceForm), ("compute", ComputeForm),
         ("cost", CostForm), ("review", ReviewForm)]
