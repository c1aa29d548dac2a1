"""The catalog tickets refer to: products (cached per process) and root causes."""
import time

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from gongdan_common.validation import load

from . import exceptions as exc, schemas
from .models import Product, RootCause


# Products change rarely and every create reads one: (database url, code) -> (expires,
# (code, product_line, active)). `upsert_product` forgets its entry at once in this process;
# another intake replica sees a change within PRODUCT_CACHE_SECONDS.
PRODUCT_CACHE_SECONDS = 30.0
_products = {}


def _product_facts(uow, code):
    """(code, product_line, active) of a product, or None when there is none."""
    key = (str(uow.engine.url) if uow.engine is not None else None, code)
    hit = _products.get(key)
    now = time.monotonic()
    if hit is not None and hit[0] > now:
        return hit[1]
    with uow:
        product = uow.session.get(Product, code)
        facts = None if product is None else (product.code, product.product_line,
                                              product.active)
    if facts is not None:
        if len(_products) > 10000:
            _products.clear()
        _products[key] = (now + PRODUCT_CACHE_SECONDS, facts)
    return facts


def list_root_causes(uow, include_inactive=False):
    with uow:
        stmt = select(RootCause).order_by(RootCause.sort, RootCause.code)
        if not include_inactive:
            stmt = stmt.where(RootCause.active.is_(True))
        return schemas.RootCauseOutSchema(many=True).dump(uow.session.scalars(stmt).all())


def put_root_cause(actor, payload, uow):
    if actor["role"] != "admin":
        raise exc.NOT_ALLOWED()
    data = load(schemas.RootCauseSchema(), payload)
    with uow:
        cause = uow.session.get(RootCause, data["code"]) or RootCause(code=data["code"])
        for k, v in data.items():
            setattr(cause, k, v)
        uow.session.add(cause)
        uow.commit()
        return schemas.RootCauseOutSchema().dump(cause)


def list_products(uow, include_inactive=False):
    with uow:
        stmt = select(Product).order_by(Product.product_line, Product.code)
        if not include_inactive:
            stmt = stmt.where(Product.active.is_(True))
        return schemas.ProductOutSchema(many=True).dump(uow.session.scalars(stmt).all())


def upsert_product(actor, payload, uow, create_only=False):
    if actor["role"] != "admin":
        raise exc.NOT_ALLOWED()
    data = load(schemas.ProductSchema(), payload)
    with uow:
        product = uow.session.get(Product, data["code"])
        if product is not None and create_only:
            raise exc.PRODUCT_EXISTS(code=data["code"])
        if product is None:
            product = Product(code=data["code"])
            uow.session.add(product)
        for k, v in data.items():
            setattr(product, k, v)
        try:
            uow.commit()
        except IntegrityError:
            raise exc.PRODUCT_EXISTS(code=data["code"]) from None
        _products.pop((str(uow.engine.url) if uow.engine is not None else None,
                       data["code"]), None)
        return schemas.ProductOutSchema().dump(product)
