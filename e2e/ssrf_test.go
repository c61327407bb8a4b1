package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/outlethq/outlet/internal/testwait"
	"golang.org/x/net/dns/dnsmessage"
)

func TestPlainlyPrivateEndpointURLsAreRefusedAtRegistration(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--allow-private-networks=false")
	s.tenant("acme")
	for _, url := range []string{
		"http://127.0.0.1:8080/hook",
		"http://127.1.2.3/",
		"http://localhost:3000/",
		"http://api.localhost/",
		"http://[::1]/",
		"http://[::ffff:127.0.0.1]/",
		"http://169.254.169.254/latest/meta-data/",
		"http://[fd00:ec2::254]/",
		"http://10.1.2.3/",
		"http://172.16.0.1/",
		"http://192.168.1.1/",
		"http://100.64.0.1/",
		"http://224.0.0.1/",
		"http://0.0.0.0/",
		"http://[fe80::1]/",
		"http://[::ffff:0:127.0.0.1]/",     // IPv4-translated (SIIT)
		"http://[::ffff:0:10.0.0.1]/",      // IPv4-translated (SIIT)
		"http://[64:ff9b:1::a9fe:a9fe]/",   // local-use NAT64, /96 layout
		"http://[64:ff9b:1:7f00:0:100::]/", // local-use NAT64, /48 layout: 127.0.0.1
		"ftp://example.com/",
		"example.com/hook",
	} {
		var e struct {
			Error struct{ Code, Message string }
		}
		status := s.call(adminKey, "POST", "/v1/tenants/acme/endpoints", map[string]any{"url": url}, &e)
		if status != 422 || e.Error.Message == "" {
			t.Errorf("registering %s answered %d %+v; want 422 with a reason", url, status, e)
		}
	}
	if status := s.call(adminKey, "POST", "/v1/tenants/acme/endpoints", map[string]any{"url": "https://hooks.example.com/outlet"}, nil); status != 201 {
		t.Errorf("a public URL answered %d; want 201", status)
	}
}

// unreachable is the one message for a host the network policy keeps
// Outlet from, or whose name doesn't resolve, with the host's name as HOST.
const unreachable = "can't connect to HOST: it has no public address Outlet may call (it doesn't resolve, " +
	"or resolves only to loopback, private or reserved addresses)"

func TestNamesThatResolveToPrivateAddressesAreRefusedWhenConnecting(t *testing.T) {
	t.Parallel()
	dns := startDNS(t, map[string]net.IP{
		"rebind.test.":   net.IPv4(127, 0, 0, 1),
		"metadata.test.": net.IPv4(169, 254, 169, 254),
		"siit.test.":     net.ParseIP("::ffff:0:127.0.0.1"),
		"nat64.test.":    net.ParseIP("64:ff9b:1:7f00:0:100::"), // 127.0.0.1 in a /48 layout
	})
	s := startServer(t, "--allow-private-networks=false", "--dns-server", dns, "--retry-schedule", "")
	rcv := newReceiver(t)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(rcv.srv.URL, "http://"))
	tenant := s.tenant("acme")
	// What the operator's log says of each; the attempt says none of it.
	details := map[string]string{
		"rebind.test":   "127.0.0.1: it is a loopback address",
		"metadata.test": "169.254.169.254: it is a link-local address",
		"siit.test":     "it carries the IPv4 address 127.0.0.1",
		"nat64.test":    "it carries the IPv4 address 127.0.0.1",
	}
	endpoints := map[string]string{} // id → host
	for host := range details {
		ep := s.endpoint(tenant, map[string]any{"url": "http://" + host + ":" + port + "/hook"}) // a name is not plainly private: accepted
		endpoints[ep.ID] = host
	}
	s.publish(tenant, "invoice.paid", map[string]int{"n": 1})
	testwait.Within(t, 10*time.Second, "every delivery to fail", func() bool {
		return len(s.deliveries(tenant, "status=failed")) == len(details)
	})
	for _, d := range s.deliveries(tenant, "") {
		host := endpoints[d.Target.ID]
		as := s.attempts(tenant, d.ID)
		if want := strings.ReplaceAll(unreachable, "HOST", host); len(as) != 1 || as[0].Error != want {
			t.Errorf("%s: attempts %+v; want one failed with %q", host, as, want)
		}
		testwait.Within(t, 5*time.Second, "the log to say what "+host+" resolved to", func() bool {
			for _, l := range s.logLines("webhook attempt refused by the network policy") {
				if l["endpoint"] == d.Target.ID && l["tenant"] == tenant && l["host"] == host &&
					strings.Contains(fmt.Sprint(l["detail"]), details[host]) {
					return true
				}
			}
			return false
		})
	}
	if n := rcv.count(); n != 0 {
		t.Errorf("the receiver on 127.0.0.1 got %d requests through a name; want none", n)
	}
}

func TestFunctionsCannotFetchIPv6FormsOfBlockedIPv4Addresses(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--allow-private-networks=false")
	rcv := newReceiver(t)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(rcv.srv.URL, "http://"))
	s.tenant("acme")
	s.hook("fetch", 5000, "fail_closed")
	s.deploy("acme", "fetcher", map[string]any{"runtime": "javascript", "hooks": []string{"fetch"}, "code": fetcherJS})
	for _, host := range []string{
		"::ffff:0:127.0.0.1",     // IPv4-translated (SIIT)
		"64:ff9b:1::7f00:1",      // local-use NAT64, /96 layout
		"64:ff9b:1:7f00:0:100::", // local-use NAT64, /48 layout
		"64:ff9b:1:7f:0:1::",     // local-use NAT64, /56 layout
		"64:ff9b:1:0:7f:0:100:0", // local-use NAT64, /64 layout
	} {
		got := fetchError(t, s, "http://["+host+"]:"+port+"/")
		if want := "fetch failed: " + strings.ReplaceAll(unreachable, "HOST", "["+host+"]"); got != want {
			t.Errorf("fetching from %s failed with %q; want %q", host, got, want)
		}
	}
	if n := rcv.count(); n != 0 {
		t.Errorf("the receiver on 127.0.0.1 got %d requests; want none", n)
	}
}

func TestARefusedAddressAndANameThatDoesNotResolveFailAlike(t *testing.T) {
	t.Parallel()
	// Were they to fail differently, a tenant could tell which internal
	// names exist by trying them.
	dns := startDNS(t, map[string]net.IP{"internal.test.": net.IPv4(10, 0, 0, 1)})
	s := startServer(t, "--allow-private-networks=false", "--dns-server", dns, "--retry-schedule", "")
	tenant := s.tenant("acme")
	hosts := []string{"internal.test", "missing.test"} // 10.0.0.1, refused before connecting; NXDOMAIN
	alike := func(what string, errs map[string]string) {
		t.Helper()
		a, b := strings.ReplaceAll(errs[hosts[0]], hosts[0], "HOST"), strings.ReplaceAll(errs[hosts[1]], hosts[1], "HOST")
		if a != b || a == "" || strings.Contains(a, "10.0.0.1") {
			t.Errorf("%s: %q and %q; want the same error but for the host, naming no address", what, errs[hosts[0]], errs[hosts[1]])
		}
	}

	endpoints := map[string]string{}
	for _, host := range hosts {
		endpoints[s.endpoint(tenant, map[string]any{"url": "http://" + host + "/hook"}).ID] = host
	}
	s.publish(tenant, "invoice.paid", map[string]int{"n": 1})
	testwait.Within(t, 10*time.Second, "both deliveries to fail", func() bool {
		return len(s.deliveries(tenant, "status=failed")) == 2
	})
	attemptErrs := map[string]string{}
	for _, d := range s.deliveries(tenant, "") {
		if as := s.attempts(tenant, d.ID); len(as) == 1 {
			attemptErrs[endpoints[d.Target.ID]] = as[0].Error
		}
	}
	alike("webhook attempts", attemptErrs)

	s.hook("fetch", 5000, "fail_closed")
	s.deploy("acme", "fetcher", map[string]any{"runtime": "javascript", "hooks": []string{"fetch"}, "code": fetcherJS})
	fetchErrs := map[string]string{}
	for _, host := range hosts {
		fetchErrs[host] = fetchError(t, s, "http://"+host+"/")
	}
	alike("function fetches", fetchErrs)

	syncErrs := map[string]string{}
	for _, host := range hosts {
		s.hook("sync."+strings.TrimSuffix(host, ".test"), 2000, "fail_closed")
		hook := "sync." + strings.TrimSuffix(host, ".test")
		s.must(201, "PUT", "/v1/tenants/acme/hooks/"+hook+"/endpoint", map[string]any{"url": "http://" + host + "/sync"}, nil)
		if r := s.invoke("acme", hook, map[string]int{}); r.Error != nil {
			syncErrs[host] = r.Error.Message
		}
	}
	alike("sync endpoints", syncErrs)

	// The operator still learns which is which, and whose request it was.
	testwait.Within(t, 5*time.Second, "the log to tell a refusal from a missing name", func() bool {
		refused := s.logLines("function fetch refused by the network policy")
		missing := s.logLines("function fetch failed: the host doesn't resolve")
		syncRefused := s.logLines("sync endpoint call refused by the network policy")
		return len(refused) == 1 && len(missing) == 1 && len(syncRefused) == 1 &&
			refused[0]["tenant"] == "acme" && refused[0]["function"] == "fetcher" && strings.Contains(fmt.Sprint(refused[0]["detail"]), "10.0.0.1: it is a private address") &&
			missing[0]["host"] == "missing.test" && strings.Contains(fmt.Sprint(missing[0]["detail"]), "no such host") &&
			syncRefused[0]["tenant"] == "acme" && syncRefused[0]["hook"] == "sync.internal"
	})
}

// fetcherJS serves a hook by fetching input.url, answering with the error
// fetch threw.
const fetcherJS = `export default async function (input) {
  try {
    await fetch(input.url);
    return { error: "" };
  } catch (e) {
    return { error: String(e.message) };
  }
}`

// fetchError has the fetcher function fetch url and returns the error.
func fetchError(t *testing.T, s *server, url string) string {
	t.Helper()
	r := s.invoke("acme", "fetch", map[string]string{"url": url})
	var out struct{ Error string }
	if r.Error != nil || json.Unmarshal(r.Output, &out) != nil || out.Error == "" {
		t.Fatalf("fetching %s: %+v %s; want the error fetch threw", url, r.Error, r.Output)
	}
	return out.Error
}

// logLines returns the server's JSON log lines with the given message.
func (s *server) logLines(msg string) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(s.logs.String(), "\n") {
		var l map[string]any
		if json.Unmarshal([]byte(line), &l) == nil && l["msg"] == msg {
			out = append(out, l)
		}
	}
	return out
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--retry-schedule", "")
	target := newReceiver(t)
	rcv := newReceiver(t)
	rcv.respond(reply{status: 302, headers: map[string]string{"Location": target.srv.URL + "/elsewhere"}})
	tenant := s.tenant("acme")
	s.endpoint(tenant, map[string]any{"url": rcv.srv.URL})
	id := s.publish(tenant, "invoice.paid", map[string]int{"n": 1})
	d := s.waitDelivery(tenant, id, "failed", 10*time.Second)
	as := s.attempts(tenant, d.ID)
	if len(as) != 1 || as[0].StatusCode != 302 || !strings.Contains(as[0].Error, "redirect") {
		t.Errorf("attempts %+v; want one failed attempt that names the redirect", as)
	}
	if target.count() != 0 {
		t.Errorf("the redirect target was called")
	}
}

// startDNS answers A and AAAA queries for the given names on a UDP port of
// 127.0.0.1, and says there is nothing else.
func startDNS(t *testing.T, names map[string]net.IP) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			var p dnsmessage.Parser
			h, err := p.Start(buf[:n])
			if err != nil {
				continue
			}
			q, err := p.Question()
			if err != nil {
				continue
			}
			b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true})
			b.EnableCompression()
			ip, known := names[strings.ToLower(q.Name.String())]
			if !known {
				b = dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, RCode: dnsmessage.RCodeNameError})
			}
			b.StartQuestions()
			b.Question(q)
			// An address that To4 reads is an A record; any other, AAAA.
			rh := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 1}
			switch v4 := ip.To4(); {
			case known && q.Type == dnsmessage.TypeA && v4 != nil:
				b.StartAnswers()
				b.AResource(rh, dnsmessage.AResource{A: [4]byte(v4)})
			case known && q.Type == dnsmessage.TypeAAAA && v4 == nil:
				b.StartAnswers()
				b.AAAAResource(rh, dnsmessage.AAAAResource{AAAA: [16]byte(ip.To16())})
			}
			msg, err := b.Finish()
			if err == nil {
				pc.WriteTo(msg, addr)
			}
		}
	}()
	return pc.LocalAddr().String()
}
