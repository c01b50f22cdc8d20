from django.db import models


class Product(models.Model):
    """The catalog's product table, read as-is."""

    sku = models.CharField(max_length=64)
    slug = models.SlugField(max_length=200)
    name = models.CharField(max_length=200)
    description = models.TextField()
    category_id = models.BigIntegerField(null=True)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    tax_rate = models.DecimalField(max_digits=5, decimal_places=4)
    stock = models.IntegerField()
    is_active = models.BooleanField()
    image_url = models.URLField(max_length=500)
    weight = models.DecimalField(max_digits=8, decimal_places=3, null=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        managed = False
        db_table = "catalog_product"
        app_label = "drf_site"

    def __str__(self):
        return self.sku
