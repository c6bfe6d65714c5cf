from django.urls import path

from costs import views

app_name = "costs"

urlpatterns = [
    path("estimate/", views.estimate, name="estimate"),
]
