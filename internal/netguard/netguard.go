// Package netguard decides which addresses Outlet's outbound connections —
// webhooks, functions' fetch, sync endpoints — may reach, and enforces it
// when connecting, after DNS, so that no name can smuggle a connection to the
// host's own networks or a cloud metadata service.
package netguard

import (
	"context"
	"errors"
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
// that carries an IPv4 one (v4-mapped, IPv4-translated, NAT64, 6to4, Teredo)
// is judged by the IPv4 address inside, so a blocked IPv4 address can't be
// reached by spelling it as IPv6. Where the IPv4 address's place depends on
// how the operator set the network up (the local-use NAT64 prefix), every
// place it could be is judged, and any blocked one blocks the address.
func BlockedReason(ip netip.Addr) string {
	ip = ip.WithZone("")
	for _, v4 := range embeddedIPv4(ip) {
		if why := rangeReason(v4); why != "" {
			return fmt.Sprintf("%s (it carries the IPv4 address %s)", why, v4)
		}
	}
	return rangeReason(ip)
}

func rangeReason(ip netip.Addr) string {
	for _, r := range blockedRanges {
		if r.prefix.Contains(ip) {
			return r.why
		}
	}
	return ""
}

var (
	nat64      = netip.MustParsePrefix("64:ff9b::/96")
	nat64Local = netip.MustParsePrefix("64:ff9b:1::/48")  // RFC 8215
	translated = netip.MustParsePrefix("::ffff:0:0:0/96") // IPv4-translated, RFC 2765 (SIIT)
	sixTo4     = netip.MustParsePrefix("2002::/16")
	teredo     = netip.MustParsePrefix("2001::/32")
	compat4    = netip.MustParsePrefix("::/96")
	thisNet    = netip.MustParsePrefix("0.0.0.0/8")
)

// embeddedIPv4 returns the IPv4 addresses ip may carry: none for an address
// of no IPv6 form that carries one.
func embeddedIPv4(ip netip.Addr) []netip.Addr {
	if ip.Is4() {
		return nil
	}
	if ip.Is4In6() {
		return []netip.Addr{ip.Unmap()}
	}
	b := ip.As16()
	last32 := netip.AddrFrom4([4]byte(b[12:16]))
	switch {
	case nat64.Contains(ip), translated.Contains(ip),
		compat4.Contains(ip) && ip != netip.IPv6Unspecified() && ip != netip.IPv6Loopback():
		return []netip.Addr{last32}
	case nat64Local.Contains(ip):
		return nat64LocalIPv4(b)
	case sixTo4.Contains(ip):
		return []netip.Addr{netip.AddrFrom4([4]byte(b[2:6]))}
	case teredo.Contains(ip):
		// Teredo carries the client's address inverted in the last 32 bits.
		return []netip.Addr{netip.AddrFrom4([4]byte{^b[12], ^b[13], ^b[14], ^b[15]})}
	}
	return nil
}

// nat64LocalIPv4 reads an address of the local-use NAT64 prefix
// 64:ff9b:1::/48 in each layout RFC 6052 allows an operator's prefix inside
// it: /48, /56, /64 and /96. Bits 64-71 (byte 8, the "u" octet) never hold
// any of the IPv4 address.
//
// A reading that lands in 0.0.0.0/8 is dropped: those are source-only
// addresses, which no translator forwards to, and an address of the usual
// /96 layout reads as 0.x.x.x in every other layout (its zero bytes are
// there) — counting them would refuse every public address behind such a
// translator. An address whose every reading lands there carries nothing a
// translator could reach, and is judged by its first reading (and so
// refused). The other readings are counted even where they may be mere
// bits of a public address: in the /48 to /64 layouts a public address can
// be refused for what another layout would make of it.
func nat64LocalIPv4(b [16]byte) []netip.Addr {
	all := []netip.Addr{
		netip.AddrFrom4([4]byte{b[6], b[7], b[9], b[10]}),   // /48
		netip.AddrFrom4([4]byte{b[7], b[9], b[10], b[11]}),  // /56
		netip.AddrFrom4([4]byte{b[9], b[10], b[11], b[12]}), // /64
		netip.AddrFrom4([4]byte(b[12:16])),                  // /96
	}
	var out []netip.Addr
	for _, a := range all {
		if !thisNet.Contains(a) {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return all[:1]
	}
	return out
}

// blockedError is why the policy refused to connect to one address. It is
// the operator's to read: callers are told an UnreachableError.
type blockedError struct {
	addr   netip.Addr
	reason string
}

func (e *blockedError) Error() string {
	return fmt.Sprintf("refused to connect to %s: it is %s (start Outlet with --allow-private-networks to allow it)", e.addr, e.reason)
}

// UnreachableError is what a tenant is told when the network policy keeps a
// connection from a host, or the host's name doesn't resolve. Both read the
// same, without the address or the kind of range: otherwise the difference
// ("refused: 10.0.0.1 is private" against "no such host") would let a tenant
// map the operator's internal names. Detail is for the operator's log.
type UnreachableError struct {
	Host    string // as the caller gave it
	Detail  string // which address was refused and why, or the resolver's answer
	Refused bool   // the policy refused an address, rather than the name not resolving
}

func (e *UnreachableError) Error() string {
	host := e.Host
	if strings.Contains(host, ":") {
		host = "[" + host + "]" // an IPv6 address, as it is written in a URL
	}
	return fmt.Sprintf("can't connect to %s: it has no public address Outlet may call (it doesn't resolve, "+
		"or resolves only to loopback, private or reserved addresses)", host)
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
// Unlike a refusal when connecting, its message names the kind of address:
// it resolves nothing, so it tells the caller only about the literal they
// typed, and how to fix it.
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

// DialFunc connects as net.Dialer.DialContext does; an http.Transport takes it.
type DialFunc func(ctx context.Context, network, address string) (net.Conn, error)

// Dial returns a dial function that checks every address it connects to,
// after DNS resolution, so a name that resolves (or later rebinds) to a
// blocked address is refused too. With the policy on, a refused address and
// a name that doesn't resolve both fail with an *UnreachableError.
func (p Policy) Dial(timeout time.Duration) DialFunc {
	d := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
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
	if p.AllowPrivate {
		return d.DialContext
	}
	d.Control = control
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, address)
		if err == nil {
			return c, nil
		}
		host, _, splitErr := net.SplitHostPort(address)
		if splitErr != nil {
			host = address
		}
		var blocked *blockedError
		var dnsErr *net.DNSError
		switch {
		case errors.As(err, &blocked):
			return nil, &UnreachableError{Host: host, Detail: blocked.Error(), Refused: true}
		case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
			return nil, &UnreachableError{Host: host, Detail: dnsErr.Error()}
		}
		return nil, err
	}
}

func control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("refused to connect to %q: not an IP address", address)
	}
	if why := BlockedReason(ap.Addr()); why != "" {
		return &blockedError{addr: ap.Addr().Unmap(), reason: why}
	}
	return nil
}
