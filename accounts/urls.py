from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.profile, name="profile"),
    path("tokens/", views.token_create, name="token_create"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("notifications/", views.notifications_save, name="notifications"),
    path("notifications/test/", views.notifications_test, name="notifications_test"),
    path("groups/<slug:slug>/notifications/", views.group_notifications, name="group_notifications"),
    path("groups/<slug:slug>/notifications/test/", views.group_notifications_test, name="group_notifications_test"),
]
