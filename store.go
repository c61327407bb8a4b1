package outlet

import "context"

// Store is everything Outlet keeps. SQLite and Postgres implement it, and both
// pass the same suite in storetest.
type Store interface {
	TenantStore
	EventTypeStore
	EndpointStore
	EventStore
	DeliveryStore
	HookStore
	FunctionStore
	InvocationStore
	SecretStore
	UsageStore
	PortalSessionStore
	AuditStore
	// Ping reports whether the store can take work now.
	Ping(ctx context.Context) error
	Close() error
}
