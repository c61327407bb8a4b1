// Which event types a subscription takes, as Outlet decides it
// (outlet.MatchEventType): no filters is every type; "*" too; "invoice.*"
// every type that starts with "invoice."; otherwise the exact name.
export function matchEventType(filters: string[] | null | undefined, type: string): boolean {
  if (!filters || filters.length === 0) return true;
  return filters.some((f) => f === type || f === "*" || (f.endsWith("*") && type.startsWith(f.slice(0, -1))));
}
