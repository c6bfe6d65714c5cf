from django.urls import path

from costs import views

app_name = "costs"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("budgets/", views.budgets, name="budgets"),
    path("estimate/", views.estimate, name="estimate"),
]
