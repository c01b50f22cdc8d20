"""A realistic demo catalogue: a category tree and N products, the same for the same seed.

Product number i always has sku `TND-<i>` and is generated from its own random
stream (seed, i), so a run is deterministic whatever N is, and re-running only
creates the skus that are missing (nothing existing is touched). Products are
inserted with bulk_create in batches, one transaction per batch.
"""

import random
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils.text import slugify

from catalog.models import Category, Product
from shopkit.routers import ECOMMERCE_DB

# Spanish IVA: general 21 %, reduced 10 % (food, some health products), super-reduced 4 %
# (books, bread, medicines).
GENERAL, REDUCED, SUPER_REDUCED = Decimal("0.21"), Decimal("0.10"), Decimal("0.04")


@dataclass(frozen=True)
class Subcategory:
    name: str
    nouns: tuple[str, ...]
    price_range: tuple[int, int]  # euros, net
    weight_range: tuple[float, float]  # kg
    tax_rate: Decimal | None = None  # None: the top-level category's


# (top-level name, its tax rate, subcategories): 8 top-level, 3 to 5 children each.
CATEGORY_TREE: tuple[tuple[str, Decimal, tuple[Subcategory, ...]], ...] = (
    (
        "Electronics",
        GENERAL,
        (
            Subcategory(
                "Phones",
                ("Smartphone", "Phone case", "Charger", "Screen protector"),
                (8, 1200),
                (0.05, 0.4),
            ),
            Subcategory(
                "Laptops",
                ("Laptop", "Ultrabook", "Laptop sleeve", "Docking station"),
                (25, 2400),
                (0.3, 2.8),
            ),
            Subcategory(
                "Audio",
                ("Headphones", "Earbuds", "Bluetooth speaker", "Soundbar"),
                (15, 600),
                (0.05, 4.0),
            ),
            Subcategory(
                "Cameras",
                ("Mirrorless camera", "Action camera", "Lens", "Tripod"),
                (30, 2200),
                (0.1, 2.0),
            ),
            Subcategory(
                "Smart home",
                ("Smart plug", "Smart bulb", "Thermostat", "Doorbell camera"),
                (10, 250),
                (0.05, 0.8),
            ),
        ),
    ),
    (
        "Books",
        SUPER_REDUCED,
        (
            Subcategory(
                "Fiction",
                ("Novel", "Thriller", "Short stories", "Poetry collection"),
                (7, 30),
                (0.2, 0.9),
            ),
            Subcategory(
                "Non-fiction",
                ("Biography", "History book", "Essay", "Travel guide"),
                (9, 45),
                (0.2, 1.2),
            ),
            Subcategory(
                "Children's books",
                ("Picture book", "Activity book", "Fairy tales"),
                (5, 25),
                (0.1, 0.8),
            ),
            Subcategory(
                "Cookbooks", ("Cookbook", "Baking book", "Tapas cookbook"), (12, 40), (0.4, 1.5)
            ),
        ),
    ),
    (
        "Food and drink",
        REDUCED,
        (
            Subcategory(
                "Coffee and tea",
                ("Ground coffee", "Coffee beans", "Green tea", "Herbal tea"),
                (3, 30),
                (0.1, 1.0),
            ),
            Subcategory(
                "Pantry",
                ("Extra virgin olive oil", "Saffron", "Paprika", "Honey", "Rice"),
                (2, 40),
                (0.05, 5.0),
            ),
            Subcategory(
                "Snacks", ("Almonds", "Crisps", "Chocolate bar", "Turron"), (1, 20), (0.05, 1.0)
            ),
            Subcategory(
                "Wine",
                ("Rioja", "Albarino", "Cava", "Ribera del Duero"),
                (5, 90),
                (0.8, 1.6),
                GENERAL,
            ),
        ),
    ),
    (
        "Home and kitchen",
        GENERAL,
        (
            Subcategory(
                "Cookware",
                ("Frying pan", "Paella pan", "Saucepan", "Knife set"),
                (10, 300),
                (0.3, 5.0),
            ),
            Subcategory(
                "Bedding", ("Duvet cover", "Pillow", "Sheet set", "Blanket"), (12, 180), (0.4, 3.0)
            ),
            Subcategory(
                "Lighting",
                ("Desk lamp", "Floor lamp", "Pendant light", "LED strip"),
                (9, 350),
                (0.2, 8.0),
            ),
            Subcategory(
                "Storage", ("Storage box", "Shelf", "Laundry basket"), (6, 150), (0.3, 12.0)
            ),
        ),
    ),
    (
        "Fashion",
        GENERAL,
        (
            Subcategory(
                "Men", ("T-shirt", "Shirt", "Jeans", "Jacket", "Jumper"), (9, 220), (0.15, 1.5)
            ),
            Subcategory(
                "Women", ("Dress", "Blouse", "Skirt", "Coat", "Cardigan"), (12, 260), (0.15, 1.5)
            ),
            Subcategory(
                "Shoes", ("Trainers", "Espadrilles", "Boots", "Sandals"), (15, 200), (0.4, 1.5)
            ),
            Subcategory(
                "Accessories", ("Scarf", "Belt", "Sunglasses", "Backpack"), (6, 150), (0.05, 1.2)
            ),
        ),
    ),
    (
        "Sports and outdoors",
        GENERAL,
        (
            Subcategory(
                "Cycling",
                ("Bike helmet", "Bike light", "Cycling jersey", "Bike lock"),
                (10, 400),
                (0.1, 2.0),
            ),
            Subcategory(
                "Running", ("Running shoes", "Running belt", "Sports watch"), (12, 450), (0.05, 0.8)
            ),
            Subcategory(
                "Camping",
                ("Tent", "Sleeping bag", "Camping stove", "Headlamp"),
                (8, 500),
                (0.1, 6.0),
            ),
            Subcategory(
                "Fitness",
                ("Yoga mat", "Dumbbell set", "Resistance band", "Kettlebell"),
                (6, 250),
                (0.2, 20.0),
            ),
        ),
    ),
    (
        "Toys and games",
        GENERAL,
        (
            Subcategory(
                "Board games", ("Board game", "Card game", "Party game"), (8, 70), (0.3, 2.0)
            ),
            Subcategory(
                "Building sets",
                ("Building set", "Construction kit", "Marble run"),
                (10, 200),
                (0.3, 3.0),
            ),
            Subcategory(
                "Puzzles", ("Jigsaw puzzle", "3D puzzle", "Brain teaser"), (5, 45), (0.1, 1.2)
            ),
        ),
    ),
    (
        "Health and beauty",
        GENERAL,
        (
            Subcategory(
                "Skincare",
                ("Moisturiser", "Sun cream", "Face serum", "Cleanser"),
                (4, 80),
                (0.05, 0.5),
            ),
            Subcategory(
                "Hair care",
                ("Shampoo", "Conditioner", "Hair dryer", "Hair brush"),
                (3, 150),
                (0.1, 1.0),
            ),
            Subcategory(
                "Pharmacy",
                ("Ibuprofen", "Paracetamol", "Vitamin C", "Plasters"),
                (2, 20),
                (0.02, 0.2),
                SUPER_REDUCED,
            ),
            Subcategory(
                "Health devices",
                ("Thermometer", "Blood pressure monitor", "Face masks"),
                (4, 90),
                (0.05, 0.8),
                REDUCED,
            ),
        ),
    ),
)

BRANDS = (
    "Acme", "Nordika", "Solera", "Brisa", "Tramuntana", "Oliva", "Cierzo", "Duna", "Alba",
    "Sierra", "Marea", "Faro", "Lumen", "Vela", "Roca", "Ibis", "Pino", "Terra", "Nube", "Altamar",
)  # fmt: skip
QUALITIES = (
    "Classic", "Pro", "Compact", "Eco", "Premium", "Lite", "Essential", "Urban", "Smart",
    "Deluxe", "Sport", "Travel", "Max", "Mini", "Original",
)  # fmt: skip
VARIANTS = (
    "black", "white", "blue", "red", "green", "grey", "sand", "navy", "olive", "terracotta",
)  # fmt: skip
SELLING_POINTS = (
    "Designed in Barcelona and built to last.",
    "A customer favourite, now in a new edition.",
    "Made with recycled materials where possible.",
    "Two-year warranty included.",
    "Light, sturdy and easy to clean.",
    "Ships within 24 hours from our warehouse in Zaragoza.",
    "Great value for everyday use.",
    "Our experts' pick in its category.",
)


@dataclass
class SeedResult:
    categories_created: int = 0
    products_created: int = 0
    products_existing: int = 0


def sku_for(index: int) -> str:
    return f"TND-{index:07d}"


def _ensure_categories() -> tuple[list[tuple[Category, Subcategory, Decimal]], int]:
    """The tree, created where missing (matched by slug, never updated)."""
    created = 0
    leaves = []
    for top_name, top_tax_rate, subcategories in CATEGORY_TREE:
        top, was_created = Category.objects.get_or_create(
            slug=slugify(top_name), defaults={"name": top_name}
        )
        created += was_created
        for sub in subcategories:
            leaf, was_created = Category.objects.get_or_create(
                slug=slugify(f"{top_name} {sub.name}"), defaults={"name": sub.name, "parent": top}
            )
            created += was_created
            leaves.append((leaf, sub, sub.tax_rate or top_tax_rate))
    return leaves, created


def _price(rng: random.Random, low: int, high: int) -> Decimal:
    # Log-uniform (many cheap things, few dear ones), with shop-style endings.
    euros = int(low * (high / low) ** rng.random())
    return Decimal(euros) + rng.choice(
        (Decimal("0.99"), Decimal("0.95"), Decimal("0.49"), Decimal("0.00"))
    )


def _stock(rng: random.Random) -> int:
    roll = rng.random()
    if roll < 0.08:
        return 0  # sold out
    if roll < 0.18:
        return rng.randint(1, 4)  # running low
    return rng.randint(5, 250)


def build_product(index: int, *, seed: int, leaves) -> Product:
    """Product number `index` for `seed` (its own random stream: independent of N)."""
    rng = random.Random(f"tienda-seed:{seed}:{index}")  # noqa: S311 (demo data, not secrets)
    leaf, sub, tax_rate = leaves[rng.randrange(len(leaves))]
    brand, quality, noun = rng.choice(BRANDS), rng.choice(QUALITIES), rng.choice(sub.nouns)
    variant = rng.choice(VARIANTS)
    sku = sku_for(index)
    name = f"{brand} {quality} {noun}, {variant}"
    low_weight, high_weight = sub.weight_range
    return Product(
        sku=sku,
        slug=slugify(f"{name} {sku}")[:200],
        name=name,
        description=f"{quality} {noun.lower()} by {brand}, in {variant}. {rng.choice(SELLING_POINTS)}",
        category=leaf,
        price=_price(rng, *sub.price_range),
        tax_rate=tax_rate,
        stock=_stock(rng),
        is_active=rng.random() >= 0.02,
        image_url=f"https://images.tienda.example/products/{sku.lower()}.jpg",
        weight=Decimal(str(round(rng.uniform(low_weight, high_weight), 3))),
    )


def seed_catalog(
    *,
    products: int,
    seed: int = 0,
    batch_size: int = 2000,
    progress: Callable[[int, int], None] | None = None,
) -> SeedResult:
    """Make sure products TND-0000001 … TND-<products> and the category tree exist."""
    result = SeedResult()
    leaves, result.categories_created = _ensure_categories()
    for start in range(1, products + 1, batch_size):
        indexes = range(start, min(start + batch_size, products + 1))
        existing = set(
            Product.objects.filter(sku__in=[sku_for(i) for i in indexes]).values_list(
                "sku", flat=True
            )
        )
        batch = [
            build_product(index, seed=seed, leaves=leaves)
            for index in indexes
            if sku_for(index) not in existing
        ]
        with transaction.atomic(using=ECOMMERCE_DB):
            Product.objects.bulk_create(batch, batch_size=batch_size)
        result.products_created += len(batch)
        result.products_existing += len(existing)
        if progress:
            progress(indexes[-1], products)
    return result
