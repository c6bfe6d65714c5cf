"""Simulations and research groups: who sees, who manages, where a new run belongs."""

import pytest

from accounts.models import Membership, ResearchGroup
from simulations import services
from simulations.config import ConfigInvalid
from simulations.models import Simulation

pytestmark = pytest.mark.django_db


@pytest.fixture
def lab(alice, bob):
    group = ResearchGroup.objects.create(name="Lab", slug="lab")
    Membership.objects.create(user=alice, group=group)
    Membership.objects.create(user=bob, group=group, role=Membership.Role.ADMIN)
    return group


def test_a_new_run_goes_to_the_owners_only_group(alice, lab, two_days):
    assert services.simulation_create(owner=alice, raw_config=two_days).group == lab


def test_a_run_can_be_kept_private(alice, lab, two_days):
    assert services.simulation_create(owner=alice, raw_config=two_days, group="").group is None


def test_a_run_cannot_go_to_a_group_the_owner_is_not_in(alice, two_days, django_user_model):
    ResearchGroup.objects.create(name="Elsewhere", slug="elsewhere")
    with pytest.raises(ConfigInvalid) as exc:
        services.simulation_create(owner=alice, raw_config=two_days, group="elsewhere")
    assert [(e.field, e.message) for e in exc.value.errors] == [
        ("group", "you are not a member of a research group called 'elsewhere'")]
    assert not Simulation.objects.exists()


def test_with_two_groups_and_none_named_a_run_is_private(alice, lab, two_days):
    Membership.objects.create(user=alice, group=ResearchGroup.objects.create(name="Second", slug="second"))
    assert services.simulation_create(owner=alice, raw_config=two_days).group is None


def test_members_see_and_group_admins_manage_the_groups_runs(alice, bob, lab, two_days, django_user_model):
    carol = django_user_model.objects.create_user(email="carol@example.org")
    Membership.objects.create(user=carol, group=lab)
    sim = services.simulation_create(owner=alice, raw_config=two_days)
    assert sim in Simulation.objects.visible_to(carol)
    assert sim not in Simulation.objects.manageable_by(carol)
    assert sim in Simulation.objects.manageable_by(bob)  # group admin
    assert sim in Simulation.objects.manageable_by(alice)  # owner
    stranger = django_user_model.objects.create_user(email="dave@example.org")
    assert sim not in Simulation.objects.visible_to(stranger)


def test_a_private_run_is_seen_by_its_owner_alone(alice, bob, lab, two_days):
    sim = services.simulation_create(owner=alice, raw_config=two_days, group="")
    assert sim not in Simulation.objects.visible_to(bob)
    assert sim not in Simulation.objects.manageable_by(bob)


def test_the_list_query_does_not_repeat_a_run_for_each_membership(alice, bob, lab, two_days):
    services.simulation_create(owner=bob, raw_config=two_days)
    assert Simulation.objects.visible_to(bob).count() == 1


def test_a_clone_stays_in_the_group_when_the_cloner_is_a_member(alice, bob, lab, two_days):
    sim = services.simulation_create(owner=alice, raw_config=two_days)
    clone = services.simulation_clone(simulation_id=sim.id, actor=bob)
    assert (clone.owner, clone.group) == (bob, lab)
