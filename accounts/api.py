"""The API's account endpoints. GET /api/v1/me: who the caller is and how they authenticated."""

from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Membership

# How the caller authenticated, by the DRF authentication class that accepted them.
AUTH_METHODS = {
    "HashedTokenAuthentication": "token",
    "SessionAuthentication": "session",
    "CognitoJWTAuthentication": "cognito",
}


class MeApi(APIView):
    class OutputSerializer(serializers.Serializer):
        class GroupSerializer(serializers.Serializer):
            id = serializers.IntegerField(source="group.id")
            slug = serializers.CharField(source="group.slug")
            name = serializers.CharField(source="group.name")
            role = serializers.CharField()

        email = serializers.EmailField()
        full_name = serializers.CharField()
        is_staff = serializers.BooleanField()
        groups = GroupSerializer(many=True)
        authenticated_by = serializers.CharField()

    def get(self, request):
        user = request.user
        authenticator = type(request.successful_authenticator).__name__
        memberships = Membership.objects.filter(user=user).select_related("group").order_by("group__name")
        data = {"email": user.email, "full_name": user.full_name, "is_staff": user.is_staff,
                "groups": memberships, "authenticated_by": AUTH_METHODS.get(authenticator, authenticator)}
        return Response(self.OutputSerializer(data).data)
