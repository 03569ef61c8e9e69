"""How form widgets are drawn: Django's Jinja2 widget templates, Django templates where no Jinja2 one exists.

Django ships every built-in widget template twice, for its template language and for Jinja2, with the
same markup. Jinja2 compiles templates to Python and draws a filter form several times faster; the
case list draws one on every page. Widgets that come only as Django templates (the admin's, a
library's) are drawn with those, as before.
"""

from django.forms.renderers import BaseRenderer, DjangoTemplates, Jinja2
from django.template import TemplateDoesNotExist


class WidgetRenderer(BaseRenderer):
    def __init__(self):
        self.jinja2 = Jinja2()
        self.django = DjangoTemplates()
        self.templates = {}

    def get_template(self, template_name):
        template = self.templates.get(template_name)
        if template is None:
            try:
                template = self.jinja2.get_template(template_name)
            except TemplateDoesNotExist:
                template = self.django.get_template(template_name)
            self.templates[template_name] = template
        return template
