// The merchant's code at the shop's checkout.discount hook: the coupon
// WELCOME10 takes 10 % off. Outlet runs it in its sandbox; the shop applies
// the discounts the answer lists. Amounts are in cents.
export default function (cart) {
  if (cart.coupon !== "WELCOME10") {
    return cart;
  }
  const amount = Math.round(cart.subtotal * 0.1);
  const discounts = [...(cart.discounts ?? []), { label: "WELCOME10: 10% off", amount }];
  return { ...cart, discounts };
}
