"""Django's SQLite backend (the embedded default of `make run`), with boolean filters
that can use an index.

Django writes `filter(is_active=True)` as `WHERE "is_active"` on SQLite. SQLite
uses an index's leading column only for a comparison, so the storefront's product
list (index `is_active, name, id`) read every row of the table and sorted all
active products for each page it served: 0.6 ms a page at 2,000 products, and more
with every product added. Written `"is_active" = 1`, the same page is a walk of the
index in order. Django's MySQL backend compares booleans for the same reason; this
is its rule.
"""

from django.db.backends.sqlite3 import base
from django.db.models import Exists, ExpressionWrapper, Lookup


class DatabaseOperations(base.DatabaseOperations):
    def conditional_expression_supported_in_where_clause(self, expression):
        # django.db.backends.mysql.operations, same method: only lookups and EXISTS
        # stand alone in WHERE; a boolean column or expression is compared with true.
        if isinstance(expression, (Exists, Lookup)):
            return True
        if isinstance(expression, ExpressionWrapper) and expression.conditional:
            return self.conditional_expression_supported_in_where_clause(expression.expression)
        if getattr(expression, "conditional", False):
            return False
        return super().conditional_expression_supported_in_where_clause(expression)


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
