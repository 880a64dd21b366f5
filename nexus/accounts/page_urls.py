"""Routes of the HTML account pages (under /accounts/)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from nexus.accounts import pages

urlpatterns = [
    path("login/", pages.LoginPage.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("welcome/", pages.welcome_page, name="welcome"),
    path("register/", pages.register_page, name="register"),
    path("activate/<str:uid>/<str:token>/", pages.activate_page, name="activate"),
    path("password-reset/", pages.password_reset_page, name="password-reset"),
    path("reset/<str:uid>/<str:token>/", pages.password_reset_confirm_page,
         name="password-reset-confirm"),
]
