"""Indexed output files and the summaries that make time series cheap."""

from django.db import models
from django.db.models import Q


class ResultFileQuerySet(models.QuerySet):
    def readable(self) -> "ResultFileQuerySet":
        """Files the index could read (the others say why in `error`)."""
        return self.filter(error="")


class ResultFile(models.Model):
    """One output file of a simulation, described from its metadata (no data is read to index it)."""

    class Kind(models.TextChoices):
        DIAGNOSTIC = "diagnostic"
        RESTART = "restart"
        HEMCO = "hemco", "HEMCO diagnostics"
        OTHER = "other"

    simulation = models.ForeignKey("simulations.Simulation", on_delete=models.CASCADE, related_name="result_files")
    job = models.ForeignKey("simulations.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                            help_text="The segment attempt that wrote it.")
    path = models.CharField(max_length=500, help_text="Relative to the simulation's output location.")
    collection = models.CharField(max_length=100)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    model = models.CharField(max_length=10, blank=True)
    grid = models.JSONField(default=dict, help_text="kind, resolution, shape, nested, box, cs_res, stretch, label")
    grid_label = models.CharField(max_length=120, blank=True)
    times = models.JSONField(default=list, help_text="ISO date-times of the time steps.")
    time_start = models.DateTimeField(null=True, blank=True)
    time_end = models.DateTimeField(null=True, blank=True)
    levels = models.PositiveIntegerField(null=True, blank=True)
    top_first = models.BooleanField(default=False, help_text="Level 1 of the file is the top of the atmosphere.")
    variables = models.JSONField(default=list, help_text="name, long_name, units, dims, shape, species, levels")
    size_bytes = models.BigIntegerField(default=0)
    demo = models.BooleanField(default=False, help_text="Written by the demo model, not GEOS-Chem.")
    error = models.TextField(blank=True, help_text="Why the file could not be read (empty: it was).")
    indexed_at = models.DateTimeField(auto_now=True)

    objects = ResultFileQuerySet.as_manager()

    class Meta:
        ordering = ["simulation", "collection", "time_start", "path"]
        constraints = [
            models.UniqueConstraint(fields=["simulation", "path"], name="resultfile_unique_path"),
            models.CheckConstraint(condition=Q(kind__in=["diagnostic", "restart", "hemco", "other"]),
                                   name="resultfile_kind_valid"),
        ]
        indexes = [
            # The results page and time series: one simulation's files of a collection in time order.
            models.Index(fields=["simulation", "collection", "time_start"], name="resultfile_sim_coll_time_idx"),
        ]

    def __str__(self) -> str:
        return self.path

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    def variable(self, name: str) -> dict | None:
        for var in self.variables:
            if var["name"] == name or var.get("species") == name:
                return var
        return None


class SeriesSummary(models.Model):
    """Area-weighted means of one variable over a region at one level, per time step of a file.

    Computed once at indexing, so a time series over a month of daily files reads 31 rows, not
    31 files."""

    file = models.ForeignKey(ResultFile, on_delete=models.CASCADE, related_name="summaries")
    variable = models.CharField(max_length=100)
    region = models.CharField(max_length=20, help_text='"global" or a region code (NA, EU, ...).')
    level = models.PositiveIntegerField(help_text="From the surface (1); 0 for a 2-D field.")
    pressure_hpa = models.FloatField(null=True, blank=True)
    units = models.CharField(max_length=60, blank=True, help_text="The file's units (not converted).")
    values = models.JSONField(help_text="One mean per time step of the file; null where nothing was valid.")

    class Meta:
        ordering = ["file", "variable", "region", "level"]
        constraints = [
            models.UniqueConstraint(fields=["file", "variable", "region", "level"], name="summary_unique"),
        ]
        indexes = [
            # A time series: one variable, region and level across a simulation's files.
            models.Index(fields=["variable", "region", "level"], name="summary_var_region_level_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.variable} {self.region} level {self.level} in {self.file_id}"
