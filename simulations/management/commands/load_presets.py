from pathlib import Path

import yaml
from django.core.management.base import BaseCommand, CommandError

from simulations import services
from simulations.config import config_to_dict
from simulations.models import Preset

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


class Command(BaseCommand):
    help = "Load the shipped example configurations as presets for everyone (idempotent)."

    def handle(self, *args, **options):
        for path in sorted(EXAMPLES.glob("*.yml")):
            raw = yaml.safe_load(path.read_text())
            cfg, errors = services.config_check(raw)
            if errors:
                # Examples that show validation errors are not presets.
                continue
            _, created = Preset.objects.update_or_create(
                owner=None, name=cfg.name,
                defaults={"config": config_to_dict(cfg), "description": f"from examples/{path.name}"},
            )
            self.stdout.write(f"{'created' if created else 'updated'} preset '{cfg.name}'")
        if not Preset.objects.filter(owner=None).exists():
            raise CommandError(f"no valid example configuration found in {EXAMPLES}")
