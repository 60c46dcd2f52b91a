"""Payments in Stars: invoices, pre-checkout, charges, Star transactions and refunds."""

from __future__ import annotations

import copy
import secrets
import time

from songbot_fakes.telegram._common import (
    JSON,
    PRE_CHECKOUT_TTL,
    QUERY_TOO_OLD,
    STAR_TRANSACTIONS_PAGE,
    STARS_CURRENCY,
    STARS_MAX_AMOUNT,
    _bad,
)
from songbot_fakes.telegram.callbacks import _Callbacks
from songbot_fakes.telegram.records import (
    Invoice,
    PreCheckout,
    StarPayment,
    UploadedFile,
)


class _Payments(_Callbacks):
    """Payments in Stars: invoices, pre-checkout, charges, Star transactions and refunds."""

    def pay_invoice(self, invoice: Invoice, user_id: int) -> str:
        """The user taps Pay under `invoice`: a pre_checkout_query update; returns its id.
        If the bot answers ok, Telegram charges the Stars and sends successful_payment."""
        return self.send_pre_checkout(
            user_id,
            invoice.payload,
            currency=invoice.currency,
            total_amount=invoice.total_amount,
            chat_id=invoice.chat_id,
        )

    def send_pre_checkout(
        self,
        user_id: int,
        payload: str,
        *,
        currency: str = STARS_CURRENCY,
        total_amount: int,
        chat_id: int | None = None,
    ) -> str:
        """A pre_checkout_query as-is (e.g. for an invoice sent at an older price)."""
        query_id = str(secrets.randbelow(9 * 10**18) + 10**18)
        self.pre_checkouts[query_id] = PreCheckout(
            query_id,
            user_id,
            user_id if chat_id is None else chat_id,
            payload,
            currency,
            total_amount,
            created=self.clock(),
        )
        query: JSON = {
            "id": query_id,
            "from": self._user(user_id),
            "currency": currency,
            "total_amount": total_amount,
            "invoice_payload": payload,
        }
        self.enqueue_raw_update({"pre_checkout_query": query})
        return query_id

    def redeliver_payment(self, charge_id: str) -> None:
        """The same successful_payment message again, as after a lost confirmation."""
        payment = self.star_payments[charge_id]
        update = copy.deepcopy(payment.update)
        update.pop("update_id", None)
        self.enqueue_raw_update(update)

    def forge_payment(
        self,
        user_id: int,
        payload: str,
        *,
        currency: str = STARS_CURRENCY,
        total_amount: int,
        chat_id: int | None = None,
    ) -> str:
        """A successful_payment update Telegram never charged (what a forged update would carry,
        e.g. 9,999 songs for 1 Star): queued as-is, listed nowhere; returns its charge id."""
        chat, message = self._user_message(
            user_id if chat_id is None else chat_id,
            user_id,
            reply_to=None,
            thread_id=None,
            is_topic=False,
        )
        charge_id = "stxForged" + secrets.token_urlsafe(24)
        message["successful_payment"] = {
            "currency": currency,
            "total_amount": total_amount,
            "invoice_payload": payload,
            "telegram_payment_charge_id": charge_id,
            "provider_payment_charge_id": "",
        }
        self._store_and_enqueue(chat, message)
        return charge_id

    def _charge(self, checkout: PreCheckout) -> StarPayment:
        """Telegram took the Stars: the successful_payment service message to the bot."""
        chat = self._chat_for_inject(checkout.chat_id)
        charge_id = "stxFake" + secrets.token_urlsafe(24)
        message: JSON = {
            "message_id": chat.take_message_id(),
            "from": self._user(checkout.user_id),
            "chat": chat.as_chat(),
            "date": int(time.time()),
            "successful_payment": {
                "currency": checkout.currency,
                "total_amount": checkout.total_amount,
                "invoice_payload": checkout.payload,
                "telegram_payment_charge_id": charge_id,
                "provider_payment_charge_id": "",
            },
        }
        chat.messages[message["message_id"]] = message
        update: JSON = {"message": copy.deepcopy(message)}
        payment = StarPayment(
            charge_id,
            checkout.user_id,
            checkout.chat_id,
            checkout.payload,
            checkout.total_amount,
            update,
        )
        self.star_payments[charge_id] = payment
        self.record_star_transaction(
            charge_id,
            checkout.total_amount,
            source=self._star_partner(checkout.user_id, checkout.payload),
        )
        if self.deliver_payments:
            self.enqueue_raw_update(copy.deepcopy(update))
        return payment

    def record_star_transaction(
        self,
        transaction_id: str,
        amount: int,
        *,
        source: JSON | None = None,
        receiver: JSON | None = None,
    ) -> JSON:
        """Append one StarTransaction (e.g. a withdrawal to Fragment); exactly one of
        `source` (incoming) and `receiver` (outgoing) is set, as Telegram reports them."""
        if (source is None) == (receiver is None):
            raise ValueError("a Star transaction has either a source or a receiver")
        row: JSON = {"id": transaction_id, "amount": amount, "date": int(time.time())}
        if source is not None:
            row["source"] = copy.deepcopy(source)
        else:
            row["receiver"] = copy.deepcopy(receiver)
        self.star_transactions.append(row)
        return row

    def _star_partner(self, user_id: int, payload: str) -> JSON:
        """TransactionPartnerUser of an invoice payment (and of its refund)."""
        return {
            "type": "user",
            "transaction_type": "invoice_payment",
            "user": self._user(user_id),
            "invoice_payload": payload,
        }

    async def _send_invoice(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        chat = self._resolve_chat(params["chat_id"])
        currency = str(params["currency"])
        prices = params["prices"]
        if currency != STARS_CURRENCY:
            # This fake models only Stars; real Telegram needs a provider token for the rest.
            raise _bad("PAYMENT_PROVIDER_INVALID")
        if params.get("provider_token"):
            raise _bad("PAYMENT_PROVIDER_INVALID")  # Stars invoices take no provider token
        if not isinstance(prices, list) or len(prices) != 1:
            raise _bad("STARS_INVOICE_INVALID")  # exactly one price in Stars
        amount = prices[0].get("amount") if isinstance(prices[0], dict) else None
        if not isinstance(amount, int) or not 1 <= amount <= STARS_MAX_AMOUNT:
            raise _bad("CURRENCY_TOTAL_AMOUNT_INVALID")
        if not str(prices[0].get("label") or ""):
            raise _bad("price label is empty")
        if any(params.get(k) for k in ("max_tip_amount", "suggested_tip_amounts")):
            raise _bad("STARS_INVOICE_INVALID")  # no tips in Stars
        if not 1 <= len(str(params["title"])) <= 32:
            raise _bad("INVOICE_TITLE_INVALID" if params["title"] else "title is empty")
        if not 1 <= len(str(params["description"])) <= 255:
            raise _bad("INVOICE_DESCRIPTION_INVALID")
        if not 1 <= len(str(params["payload"]).encode("utf-8")) <= 128:
            raise _bad("INVOICE_PAYLOAD_INVALID")
        content: JSON = {
            "invoice": {
                "title": params["title"],
                "description": params["description"],
                "start_parameter": params.get("start_parameter") or "",
                "currency": currency,
                "total_amount": amount,
            }
        }
        message = self._new_message("sendInvoice", chat, params, content)
        self.invoices.append(
            Invoice(chat.id, message["message_id"], str(params["payload"]), currency, amount)
        )
        return message

    async def _answer_pre_checkout_query(
        self, params: JSON, files: dict[str, UploadedFile]
    ) -> bool:
        checkout = self.pre_checkouts.get(str(params["pre_checkout_query_id"]))
        now = self.clock()
        if (
            checkout is None
            or checkout.answered_at is not None
            or now - checkout.created > PRE_CHECKOUT_TTL
        ):
            raise _bad(QUERY_TOO_OLD)
        ok = bool(params["ok"])
        error = params.get("error_message")
        if not ok and not error:
            raise _bad("error_message is empty")  # required when ok is False
        checkout.answered_at, checkout.ok = now, ok
        checkout.error_message = None if ok else str(error)
        if ok:
            self._charge(checkout)
        return True

    async def _refund_star_payment(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        payment = self.star_payments.get(str(params["telegram_payment_charge_id"]))
        if payment is None or payment.user_id != int(params["user_id"]):
            raise _bad("CHARGE_NOT_FOUND")
        if payment.refunded:
            raise _bad("CHARGE_ALREADY_REFUNDED")
        payment.refunded = True
        # A refund lists as an outgoing transaction with the payment's own id (Bot API).
        self.record_star_transaction(
            payment.charge_id,
            payment.total_amount,
            receiver=self._star_partner(payment.user_id, payment.payload),
        )
        return True

    async def _get_star_transactions(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        offset = int(params.get("offset", 0))
        limit = int(params.get("limit", STAR_TRANSACTIONS_PAGE))
        if offset < 0:
            raise _bad("offset must be non-negative")
        if not 1 <= limit <= STAR_TRANSACTIONS_PAGE:
            raise _bad("limit must be between 1 and 100")
        page = self.star_transactions[offset : offset + limit]
        return {"transactions": copy.deepcopy(page)}
