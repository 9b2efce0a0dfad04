import os

from django.core.wsgi import get_wsgi_application

from portal.config import fail_on_config_error

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

application = fail_on_config_error(get_wsgi_application)
