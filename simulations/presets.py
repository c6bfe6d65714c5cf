"""Presets: named configurations the new-simulation wizard starts from.

A preset is everyone's (shipped examples, `load_presets`), one user's, or one research group's
(any member may save, replace and use it). Presets are checked against GEOS-Chem's rules only
(`parse_config`), not this installation's backend: a preset for a real GEOS-Chem build stays
useful on a demo installation, where the wizard says at the right step why it cannot run here.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from accounts.models import ResearchGroup
from simulations.config import ConfigInvalid, config_to_dict, parse_config
from simulations.models import Preset

NAME_MAX_LENGTH = 200


class PresetRefused(Exception):
    """The preset cannot be saved; the message says why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def preset_save(*, actor, name: str, raw_config, group_slug: str = "", description: str = "") -> tuple[Preset, bool]:
    """Save `raw_config` as `actor`'s preset, or as the preset of their group `group_slug`;
    a preset of the same name in that scope is replaced. Returns (preset, created)."""
    name = (name or "").strip()
    if not name:
        raise PresetRefused("give the preset a name")
    if len(name) > NAME_MAX_LENGTH:
        raise PresetRefused(f"a preset name has at most {NAME_MAX_LENGTH} characters (got {len(name)})")
    group = None
    if group_slug:
        group = ResearchGroup.objects.filter(slug=group_slug, memberships__user=actor).first()
        if group is None:
            raise PresetRefused(f"you are not a member of a research group called '{group_slug}'")
    try:
        cfg = parse_config(raw_config)
    except ConfigInvalid as exc:
        raise PresetRefused("the configuration is not valid: " + "; ".join(
            f"{e.field or 'configuration'}: {e.message}" for e in exc.errors)) from None
    scope = {"owner": None, "group": group} if group else {"owner": actor, "group": None}
    fields = {"config": config_to_dict(cfg), "description": description}
    try:
        with transaction.atomic():
            return Preset.objects.update_or_create(**scope, name=name, defaults=fields)
    except IntegrityError:
        # Saved by someone else between the look-up and the insert: replace theirs.
        Preset.objects.filter(**scope, name=name).update(**fields)
        return Preset.objects.get(**scope, name=name), False
