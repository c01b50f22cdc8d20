from django.http import JsonResponse
from django.urls import path


def hello(request):
    return JsonResponse({"hello": "world"})


urlpatterns = [path("bench/hello/", hello)]
