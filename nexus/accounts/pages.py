"""HTML account pages: login, registration, activation, password reset.

They follow the same rules as the API, by calling the same services.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm, SetPasswordForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from nexus.accounts import services
from nexus.accounts.page_throttles import counted_like_anonymous_api, refuse_login_attempt
from nexus.accounts.tokens import reset_tokens, user_from_uid

USERNAME_FIELD = forms.RegexField(regex=r"^[\w.@+-]+\Z", max_length=150, label="Username",
                                  widget=forms.TextInput(attrs={"autocomplete": "username"}))


class RegistrationForm(forms.Form):
    """Username, email and a password typed twice."""

    username = USERNAME_FIELD
    email = forms.EmailField(max_length=254, label="Email")
    password1 = forms.CharField(label="Password", strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password2 = forms.CharField(label="Password again", strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("password1") != cleaned.get("password2"):
            self.add_error("password2", "The two passwords differ.")
        return cleaned


class ResetRequestForm(forms.Form):
    """The address to send a reset link to."""

    email = forms.EmailField(max_length=254, label="Email")


def _form(request: HttpRequest, form: forms.Form, *, title: str, submit: str,
          intro: str = "") -> HttpResponse:
    return render(request, "accounts/form.html",
                  {"form": form, "title": title, "submit": submit, "intro": intro})


def _message(request: HttpRequest, *, title: str, message: str, ok: bool,
             link: tuple[str, str] | None = ("/accounts/login/", "Log in")) -> HttpResponse:
    context = {"title": title, "message": message, "ok": ok,
               "link": {"url": link[0], "text": link[1]} if link else None}
    return render(request, "accounts/message.html", context, status=200 if ok else 400)


class LoginPage(auth_views.LoginView):
    """The session login form."""

    template_name = "accounts/form.html"
    authentication_form = AuthenticationForm
    extra_context = {"title": "Log in to Nexus", "submit": "Log in"}

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        """Every attempt counts against the API's login limits (the same counters, checked
        the same way), or the form would be a way around them."""
        return refuse_login_attempt(request) or super().post(request, *args, **kwargs)


@require_http_methods(["GET", "POST"])
@counted_like_anonymous_api
def register_page(request: HttpRequest) -> HttpResponse:
    """Create an inactive account and send its activation link (or, for an address that
    has an account, a reminder to its owner: the page does not say which)."""
    form = RegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_register(username=form.cleaned_data["username"],
                                   email=form.cleaned_data["email"],
                                   password=form.cleaned_data["password1"])
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                form.add_error("password1" if field == "password" else field, messages)
        else:  # the same page whether or not the address already had an account
            return _message(request, title="Check your email", ok=True, link=None,
                            message=f"We sent a message to {form.cleaned_data['email']}: "
                                    "the next step is in it.")
    return _form(request, form, title="Create an account", submit="Register")


def _activation_failed(request: HttpRequest) -> HttpResponse:
    return _message(request, title="Activation failed", ok=False,
                    message="This activation link is invalid, used or expired.")


@require_http_methods(["GET", "HEAD", "POST"])
def activate_page(request: HttpRequest, uid: str, token: str) -> HttpResponse:
    """The emailed link shows a button; only pressing it (a POST) activates the account.

    Mail scanners fetch the links in the emails they check: if fetching the link activated,
    they would activate accounts that nobody confirmed. A bad link fails on the GET already.
    """
    if request.method == "POST":
        user = services.user_activate(uid=uid, token=token)
        if user is None:
            return _activation_failed(request)
        return _message(request, title="Account activated", ok=True,
                        message=f"Welcome, {user.username}. Your account is active; you can "
                                "log in.")
    user = services.activation_link_user(uid=uid, token=token)  # GET and HEAD change nothing
    if user is None:
        return _activation_failed(request)
    return _form(request, forms.Form(), title="Activate your account",
                 submit="Activate my account",
                 intro=f"Welcome, {user.username}. Press the button to activate your account.")


@require_http_methods(["GET", "POST"])
@counted_like_anonymous_api
def password_reset_page(request: HttpRequest) -> HttpResponse:
    """Ask for a reset link (same answer for every address)."""
    form = ResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.password_reset_request(email=form.cleaned_data["email"])
        return _message(request, title="Check your email", ok=True, link=None,
                        message="If the address belongs to an account, a reset link is on its "
                                "way. It works once, for one hour.")
    return _form(request, form, title="Reset your password", submit="Send the link")


@require_http_methods(["GET", "POST"])
def password_reset_confirm_page(request: HttpRequest, uid: str, token: str) -> HttpResponse:
    """Set a new password from the emailed link."""
    user = user_from_uid(uid)
    if user is None or not user.is_active or not reset_tokens.check_token(user, token):
        return _message(request, title="Link expired", ok=False,
                        link=("/accounts/password-reset/", "Ask for a new link"),
                        message="This reset link is invalid, used or expired.")
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.password_reset_confirm(uid=uid, token=token,
                                        new_password=form.cleaned_data["new_password1"])
        return _message(request, title="Password changed", ok=True,
                        message="Your password is changed. Log in with the new one.")
    return _form(request, form, title="Choose a new password", submit="Change password")


@login_required
def welcome_page(request: HttpRequest) -> HttpResponse:
    """Where a login lands."""
    return _message(request, title=f"Hello, {request.user.username}", ok=True,
                    link=("/graphql/", "Open GraphiQL"),
                    message=f"You are logged in as {request.user.effective_role.value}.")
