from pathlib import Path

import yaml
from django.core.management.base import BaseCommand, CommandError

from simulations import catalog, services
from simulations.config import ConfigInvalid, config_to_dict, parse_config
from simulations.models import Preset

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
NEEDS_GEOSCHEM = "Needs a GEOS-Chem build (not the demo model)."


def _header(text: str) -> str:
    """The example's opening comment lines, joined: what the preset is for."""
    lines = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("#").strip())
    return " ".join(lines)


class Command(BaseCommand):
    help = ("Load the shipped example configurations as presets for everyone (idempotent). Examples this "
            "installation cannot run (the demo model's limits) load too, checked against GEOS-Chem's rules "
            "only, and say so in their description; examples GEOS-Chem itself refuses are skipped.")

    def handle(self, *args, **options):
        for path in sorted(EXAMPLES.glob("*.yml")):
            text = path.read_text()
            raw = yaml.safe_load(text)
            cfg, errors = services.config_check(raw)
            description = " ".join(part for part in (_header(text), f"From examples/{path.name}.") if part)
            note = ""
            if errors:
                try:
                    cfg = parse_config(raw)
                except ConfigInvalid:
                    continue  # examples that show validation errors are not presets
                # GEOS-Chem accepts it; this installation does not. Say why, so the wizard can
                # start from it and show the reason at the step it belongs to.
                note = (NEEDS_GEOSCHEM if catalog.demo_problems(cfg)
                        else "This installation cannot run it: " + "; ".join(e.message for e in errors) + ".")
                description = f"{note} {description}"
            _, created = Preset.objects.update_or_create(
                owner=None, group=None, name=cfg.name,
                defaults={"config": config_to_dict(cfg), "description": description},
            )
            label = f" ({note[0].lower()}{note[1:-1]})" if note else ""
            self.stdout.write(f"{'created' if created else 'updated'} preset '{cfg.name}'{label}")
        if not Preset.objects.filter(owner=None, group=None).exists():
            raise CommandError(f"no valid example configuration found in {EXAMPLES}")
