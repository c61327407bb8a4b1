// The merchant's code at the example shop's checkout.discount hook: 5 % off
// carts of 100.00 or more. It adds its discount to those the functions
// before it in the hook's chain added; the shop applies them all.
//
// Amounts are in cents. currency.js does the money arithmetic and the
// formatting; `outlet functions deploy` bundles it from node_modules.
import currency from "currency.js";

interface Discount {
  label: string;
  amount: number;
}

interface Cart {
  currency: string;
  items: { sku: string; quantity: number; unit_price: number }[];
  subtotal: number;
  coupon?: string;
  discounts?: Discount[];
}

const from = 10000;
const rate = 0.05;

const money = (cents: number, code: string) =>
  currency(cents, { fromCents: true, symbol: "" }).format() + " " + code;

export default function (cart: Cart): Cart {
  if (cart.subtotal < from) {
    return cart;
  }
  const amount = currency(cart.subtotal, { fromCents: true }).multiply(rate);
  const label = `5% off orders of ${money(from, cart.currency)} or more`;
  console.log(`${label}: ${money(amount.intValue, cart.currency)} off ${money(cart.subtotal, cart.currency)}`);
  return { ...cart, discounts: [...(cart.discounts ?? []), { label, amount: amount.intValue }] };
}
