"""Routes of the accounts API."""

from django.urls import path

from nexus.accounts import api

urlpatterns = [
    path("auth/login/", api.AuthLoginApi.as_view(), name="auth-login"),
    path("auth/logout/", api.AuthLogoutApi.as_view(), name="auth-logout"),
    path("auth/me/", api.AuthMeApi.as_view(), name="auth-me"),
    path("auth/register/", api.AuthRegisterApi.as_view(), name="auth-register"),
    path("auth/password-reset/", api.AuthPasswordResetApi.as_view(), name="auth-password-reset"),
    path("auth/password-reset/confirm/", api.AuthPasswordResetConfirmApi.as_view(),
         name="auth-password-reset-confirm"),
    path("users/", api.UserListCreateApi.as_view(), name="user-list"),
    path("users/<uuid:user_id>/", api.UserUpdateApi.as_view(), name="user-detail"),
    path("teams/", api.TeamListCreateApi.as_view(), name="team-list"),
    path("teams/<uuid:team_id>/", api.TeamUpdateApi.as_view(), name="team-detail"),
]
