// Package netguard decides which addresses Outlet's outbound connections —
// webhooks, functions' fetch, sync endpoints — may reach, and enforces it
// when connecting, after DNS, so that no name can smuggle a connection to the
// host's own networks or a cloud metadata service.
package netguard

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"time"

	"github.com/outlethq/outlet"
)

// blockedRanges are the addresses a webhook must never reach unless the
// operator allows private networks: the host itself, its networks, and cloud
// metadata services.
var blockedRanges = []struct {
	prefix netip.Prefix
	why    string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "an unspecified (this-network) address"},
	{netip.MustParsePrefix("127.0.0.0/8"), "a loopback address"},
	{netip.MustParsePrefix("10.0.0.0/8"), "a private address"},
	{netip.MustParsePrefix("172.16.0.0/12"), "a private address"},
	{netip.MustParsePrefix("192.168.0.0/16"), "a private address"},
	{netip.MustParsePrefix("100.64.0.0/10"), "a carrier-grade NAT (CGNAT) address"},
	{netip.MustParsePrefix("169.254.0.0/16"), "a link-local address (this range holds cloud metadata services)"},
	{netip.MustParsePrefix("192.0.0.0/24"), "an IETF protocol assignment address"},
	{netip.MustParsePrefix("198.18.0.0/15"), "a benchmarking address"},
	{netip.MustParsePrefix("224.0.0.0/4"), "a multicast address"},
	{netip.MustParsePrefix("240.0.0.0/4"), "a reserved address"},
	{netip.MustParsePrefix("::/128"), "an unspecified address"},
	{netip.MustParsePrefix("::1/128"), "a loopback address"},
	{netip.MustParsePrefix("fc00::/7"), "a unique-local (private) address"},
	{netip.MustParsePrefix("fe80::/10"), "a link-local address"},
	{netip.MustParsePrefix("fec0::/10"), "a site-local address"},
	{netip.MustParsePrefix("ff00::/8"), "a multicast address"},
	{netip.MustParsePrefix("100::/64"), "a discard-only address"},
}

// BlockedReason says why ip may not be called ("" if it may). An IPv6 address
// that carries an IPv4 one (v4-mapped, NAT64, 6to4) is judged by the IPv4
// address inside, so a blocked IPv4 address can't be reached by spelling it
// as IPv6.
func BlockedReason(ip netip.Addr) string {
	ip = ip.WithZone("")
	if v4, ok := embeddedIPv4(ip); ok {
		ip = v4
	}
	for _, r := range blockedRanges {
		if r.prefix.Contains(ip) {
			return r.why
		}
	}
	return ""
}

var (
	nat64   = netip.MustParsePrefix("64:ff9b::/96")
	nat64l  = netip.MustParsePrefix("64:ff9b:1::/48")
	sixTo4  = netip.MustParsePrefix("2002::/16")
	teredo  = netip.MustParsePrefix("2001::/32")
	compat4 = netip.MustParsePrefix("::/96")
)

func embeddedIPv4(ip netip.Addr) (netip.Addr, bool) {
	if ip.Is4() {
		return ip, false
	}
	if ip.Is4In6() {
		return ip.Unmap(), true
	}
	b := ip.As16()
	switch {
	case nat64.Contains(ip), nat64l.Contains(ip), compat4.Contains(ip) && ip != netip.IPv6Unspecified() && ip != netip.IPv6Loopback():
		return netip.AddrFrom4([4]byte(b[12:16])), true
	case sixTo4.Contains(ip):
		return netip.AddrFrom4([4]byte(b[2:6])), true
	case teredo.Contains(ip):
		// Teredo carries the client's address inverted in the last 32 bits.
		return netip.AddrFrom4([4]byte{^b[12], ^b[13], ^b[14], ^b[15]}), true
	}
	return ip, false
}

// BlockedError is why a connection was refused by the network policy.
type BlockedError struct {
	Addr   netip.Addr
	Reason string
}

func (e *BlockedError) Error() string {
	return fmt.Sprintf("refused to connect to %s: it is %s (start Outlet with --allow-private-networks to allow it)", e.Addr, e.Reason)
}

// Policy decides which hosts outbound requests may reach.
type Policy struct {
	AllowPrivate bool
	// DNSServer, when set ("host:port"), answers every lookup instead of the
	// system's resolvers.
	DNSServer string
}

// CheckURL refuses, at registration, an endpoint URL whose host is plainly
// private: an IP literal in a blocked range or a name that always means this
// host. Names that resolve to such addresses are refused when connecting.
func (p Policy) CheckURL(raw string) error {
	u, err := outlet.ParseEndpointURL(raw)
	if err != nil || p.AllowPrivate {
		return err
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return outlet.Errorf(outlet.EINVALID, "url %q points at this machine (localhost); give a public address, or start Outlet with --allow-private-networks", raw)
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if why := BlockedReason(ip); why != "" {
			return outlet.Errorf(outlet.EINVALID, "url %q points at %s, which is %s; give a public address, or start Outlet with --allow-private-networks", raw, ip, why)
		}
	}
	return nil
}

// Dialer returns a dialer that checks every address it connects to, after
// DNS resolution, so a name that resolves (or later rebinds) to a blocked
// address is refused too.
func (p Policy) Dialer(timeout time.Duration) *net.Dialer {
	d := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	if !p.AllowPrivate {
		d.Control = control
	}
	if p.DNSServer != "" {
		server := p.DNSServer
		d.Resolver = &net.Resolver{
			PreferGo: true,
			Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
				var nd net.Dialer
				return nd.DialContext(ctx, network, server)
			},
		}
	}
	return d
}

func control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("refused to connect to %q: not an IP address", address)
	}
	if why := BlockedReason(ap.Addr()); why != "" {
		return &BlockedError{Addr: ap.Addr().Unmap(), Reason: why}
	}
	return nil
}
