from django.urls import path

from simulations import views, wizard

app_name = "simulations"

urlpatterns = [
    path("", views.simulation_list, name="list"),
    path("new/", views.simulation_new, name="new"),
    path("<uuid:pk>/", views.simulation_detail, name="detail"),
    path("<uuid:pk>/status.json", views.simulation_status, name="status"),
    path("<uuid:pk>/log.json", views.simulation_log, name="log"),
    path("<uuid:pk>/files/<path:path>", views.simulation_file, name="file"),
    path("<uuid:pk>/submit/", views.simulation_submit, name="submit"),
    path("<uuid:pk>/cancel/", views.simulation_cancel, name="cancel"),
    path("<uuid:pk>/retry/", views.simulation_retry, name="retry"),
    path("<uuid:pk>/clone/", views.simulation_clone, name="clone"),
    # The new-simulation wizard (simulations/wizard.py): its start (?preset=, ?clone=, ?reset) and steps.
    path("new/wizard/", wizard.wizard_view, name="wizard"),
    path("new/wizard/<str:step>/", wizard.wizard_view, name="wizard_step"),
    path("<uuid:pk>/preset/", wizard.preset_save, name="preset_save"),
]
