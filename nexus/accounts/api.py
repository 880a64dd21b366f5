"""Login, logout, me, and the admin's users and teams API."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate, password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from drf_yasg.utils import swagger_auto_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from events.values import Role
from nexus.accounts import services
from nexus.accounts.models import AccessToken, Team, User
from nexus.accounts.permissions import IsAdmin
from nexus.api import NexusApiView
from nexus.throttling import LOGIN_THROTTLES, Throttled, count_login_attempt


class UserSummarySerializer(serializers.Serializer):
    """The user as login returns it."""

    id = serializers.UUIDField()
    username = serializers.CharField()
    email = serializers.EmailField()
    role = serializers.SerializerMethodField()

    def get_role(self, user: User) -> str:
        return user.effective_role.value


class AuthLoginApi(NexusApiView):
    """Exchange a username and password for a Bearer token."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    # Every attempt counts, per client IP and per username, whether it succeeds or not.
    throttle_classes = list(LOGIN_THROTTLES)

    def check_throttles(self, request: Request) -> None:
        """The same counters, checked the same way, as the HTML form and the admin login."""
        try:
            count_login_attempt(request)
        except Throttled as error:
            self.throttled(request, error.wait)

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "AuthLoginInput"

        username = serializers.CharField(max_length=150)
        password = serializers.CharField(max_length=4096, trim_whitespace=False)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "AuthLoginOutput"

        token = serializers.CharField()
        user = UserSummarySerializer()

    @swagger_auto_schema(
        request_body=InputSerializer,
        responses={200: OutputSerializer, 400: "invalid input", 401: "wrong credentials"},
        security=[],
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(request, **data.validated_data)
        if user is None:
            # The same answer whether the user exists, is inactive or mistyped the password.
            return Response(
                {"detail": "Unable to log in with the provided credentials.",
                 "code": "invalid_credentials"},
                status=status.HTTP_401_UNAUTHORIZED,
                headers={"WWW-Authenticate": 'Bearer realm="api"'},
            )
        token = AccessToken.issue(user)
        return Response(self.OutputSerializer({"token": token, "user": user}).data)


class AuthLogoutApi(NexusApiView):
    """Revoke the token the request was made with."""

    @swagger_auto_schema(request_body=None, responses={204: "token revoked"})
    def post(self, request: Request) -> Response:
        if isinstance(request.auth, AccessToken):
            request.auth.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class AuthMeApi(NexusApiView):
    """Who the token belongs to."""

    class OutputSerializer(UserSummarySerializer):
        class Meta:
            ref_name = "AuthMeOutput"

        team_id = serializers.UUIDField(allow_null=True)
        managed_team_ids = serializers.SerializerMethodField()

        def get_managed_team_ids(self, user: User) -> list[str]:
            return sorted(str(team_id) for team_id in user.managed_team_ids())

    @swagger_auto_schema(responses={200: OutputSerializer})
    def get(self, request: Request) -> Response:
        return Response(self.OutputSerializer(request.user).data)


class UserOutputSerializer(serializers.Serializer):
    """A user as the admin's API shows it."""

    id = serializers.UUIDField()
    username = serializers.CharField()
    email = serializers.EmailField()
    role = serializers.SerializerMethodField()
    team_id = serializers.UUIDField(allow_null=True)
    is_active = serializers.BooleanField()

    def get_role(self, user: User) -> str:
        return user.effective_role.value


def _team_or_error(team_id: Any) -> Team | None:
    if team_id is None:
        return None
    team = Team.objects.filter(id=team_id).first()
    if team is None:
        raise serializers.ValidationError({"team_id": ["No such team."]})
    return team


class UserListCreateApi(NexusApiView):
    """Admins list users and create active ones."""

    permission_classes = [IsAdmin]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "UserListCreateInput"

        username = serializers.RegexField(r"^[\w.@+-]+\Z", max_length=150)
        email = serializers.EmailField()
        password = serializers.CharField(max_length=4096, trim_whitespace=False)
        role = serializers.ChoiceField(choices=[role.value for role in Role])
        team_id = serializers.UUIDField(required=False, allow_null=True)

        def validate_username(self, value: str) -> str:
            if User.objects.filter(username__iexact=value).exists():
                raise serializers.ValidationError("A user with that username already exists.")
            return value

        def validate_email(self, value: str) -> str:
            if User.objects.filter(email__iexact=value).exists():
                raise serializers.ValidationError("A user with that email address already exists.")
            return value

    @swagger_auto_schema(responses={200: UserOutputSerializer(many=True)})
    def get(self, request: Request) -> Response:
        users = User.objects.order_by("username")
        return Response(UserOutputSerializer(users, many=True).data)

    @swagger_auto_schema(request_body=InputSerializer, responses={201: UserOutputSerializer})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        team = _team_or_error(values.pop("team_id", None))
        password = values.pop("password")
        user = User(team=team, is_active=True, **values)
        try:
            password_validation.validate_password(password, user)
        except DjangoValidationError as error:
            raise serializers.ValidationError({"password": list(error.messages)}) from None
        user.set_password(password)
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError:
            raise serializers.ValidationError(
                {"username": ["A user with that username or email address already exists."]}
            ) from None
        return Response(UserOutputSerializer(user).data, status=status.HTTP_201_CREATED,
                        headers={"Location": f"/api/v1/users/{user.id}/"})


class UserUpdateApi(NexusApiView):
    """Admins change a user's role, team or active flag."""

    permission_classes = [IsAdmin]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "UserUpdateInput"

        role = serializers.ChoiceField(choices=[role.value for role in Role], required=False)
        team_id = serializers.UUIDField(required=False, allow_null=True)
        is_active = serializers.BooleanField(required=False)

    @swagger_auto_schema(request_body=InputSerializer, responses={200: UserOutputSerializer})
    def patch(self, request: Request, user_id: str) -> Response:
        user = User.objects.filter(id=user_id).first()
        if user is None:
            return Response({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if "team_id" in values:
            user.team = _team_or_error(values["team_id"])
        for field in ("role", "is_active"):
            if field in values:
                setattr(user, field, values[field])
        user.save()
        return Response(UserOutputSerializer(user).data)


class TeamSerializer(serializers.Serializer):
    """A team and its managers."""

    id = serializers.UUIDField(read_only=True)
    name = serializers.CharField(max_length=120)
    manager_ids = serializers.ListField(child=serializers.UUIDField(), required=False,
                                        max_length=100)

    def to_representation(self, team: Team) -> dict[str, Any]:
        return {
            "id": str(team.id),
            "name": team.name,
            "manager_ids": sorted(str(manager.id) for manager in team.managers.all()),
        }


def _managers_or_error(manager_ids: list[Any]) -> list[User]:
    managers = list(User.objects.filter(id__in=manager_ids))
    if len(managers) != len(set(manager_ids)):
        raise serializers.ValidationError({"manager_ids": ["Unknown user id."]})
    not_managers = [m.username for m in managers if m.effective_role is Role.USER]
    if not_managers:
        raise serializers.ValidationError(
            {"manager_ids": [f"Not a manager or admin: {', '.join(not_managers)}."]}
        )
    return managers


class TeamListCreateApi(NexusApiView):
    """Admins list and create teams."""

    permission_classes = [IsAdmin]

    @swagger_auto_schema(responses={200: TeamSerializer(many=True)})
    def get(self, request: Request) -> Response:
        teams = Team.objects.prefetch_related("managers").order_by("name")
        return Response(TeamSerializer(teams, many=True).data)

    @swagger_auto_schema(request_body=TeamSerializer, responses={201: TeamSerializer})
    def post(self, request: Request) -> Response:
        data = TeamSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if Team.objects.filter(name__iexact=data.validated_data["name"]).exists():
            raise serializers.ValidationError({"name": ["A team with that name already exists."]})
        managers = _managers_or_error(data.validated_data.get("manager_ids", []))
        with transaction.atomic():
            team = Team.objects.create(name=data.validated_data["name"])
            team.managers.set(managers)
        return Response(TeamSerializer(team).data, status=status.HTTP_201_CREATED,
                        headers={"Location": f"/api/v1/teams/{team.id}/"})


class TeamUpdateApi(NexusApiView):
    """Admins rename a team or change its managers."""

    permission_classes = [IsAdmin]

    @swagger_auto_schema(request_body=TeamSerializer, responses={200: TeamSerializer})
    def patch(self, request: Request, team_id: str) -> Response:
        team = Team.objects.filter(id=team_id).first()
        if team is None:
            return Response({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
        data = TeamSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        with transaction.atomic():
            if "name" in values:
                clash = Team.objects.filter(name__iexact=values["name"]).exclude(id=team.id)
                if clash.exists():
                    raise serializers.ValidationError(
                        {"name": ["A team with that name already exists."]}
                    )
                team.name = values["name"]
                team.save()
            if "manager_ids" in values:
                team.managers.set(_managers_or_error(values["manager_ids"]))
        return Response(TeamSerializer(team).data)


def _as_drf_error(error: DjangoValidationError) -> serializers.ValidationError:
    return serializers.ValidationError(error.message_dict if hasattr(error, "error_dict")
                                       else {"detail": error.messages})


class AuthRegisterApi(NexusApiView):
    """Create an inactive account; the emailed link activates it."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "AuthRegisterInput"

        username = serializers.RegexField(r"^[\w.@+-]+\Z", max_length=150)
        email = serializers.EmailField(max_length=254)
        password = serializers.CharField(max_length=4096, trim_whitespace=False)

    class OutputSerializer(serializers.Serializer):
        """What was asked for, and no more: the answer must not depend on the address being
        new, so it holds nothing the server made (no id, no account state)."""

        class Meta:
            ref_name = "AuthRegisterOutput"

        detail = serializers.CharField()
        username = serializers.CharField()
        email = serializers.EmailField()

    DETAIL = "Check your email: the next step is in the message we sent to that address."

    @swagger_auto_schema(
        request_body=InputSerializer, security=[],
        responses={201: OutputSerializer, 400: "invalid input, weak password or taken username"},
        operation_description=(
            "Creates an inactive account (role `user`, no team) and emails its activation "
            "link. An address that already has an account gets the same 201 with the same "
            "body, and its owner a \"you already have an account\" email instead: the answer "
            "never tells which addresses are registered. A taken username answers 400."
        ),
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.user_register(**data.validated_data)
        except DjangoValidationError as error:
            raise _as_drf_error(error) from None
        answer = {"detail": self.DETAIL, "username": data.validated_data["username"],
                  "email": data.validated_data["email"]}
        return Response(self.OutputSerializer(answer).data, status=status.HTTP_201_CREATED)


class AuthPasswordResetApi(NexusApiView):
    """Ask for a reset link: always 202 with the same body, known address or not."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "AuthPasswordResetInput"

        email = serializers.EmailField(max_length=254)

    @swagger_auto_schema(request_body=InputSerializer, security=[],
                         responses={202: "queued", 400: "not an email address"})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.password_reset_request(email=data.validated_data["email"])
        return Response({"detail": "If the address belongs to an account, a link is on its way."},
                        status=status.HTTP_202_ACCEPTED)


class AuthPasswordResetConfirmApi(NexusApiView):
    """Set a new password with the emailed uid and token (single use, one hour)."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "AuthPasswordResetConfirmInput"

        uid = serializers.CharField(max_length=64)
        token = serializers.CharField(max_length=128)
        new_password = serializers.CharField(max_length=4096, trim_whitespace=False)

    @swagger_auto_schema(request_body=InputSerializer, security=[],
                         responses={200: "password changed", 400: "bad token or password"})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.password_reset_confirm(**data.validated_data)
        except DjangoValidationError as error:
            raise _as_drf_error(error) from None
        return Response({"detail": "Password changed. Log in with the new one."})
