package e2e

import (
	"net/http"
	"strconv"
	"testing"
)

// get calls GET path with key and returns the status and Retry-After.
func (s *server) get(key, path string) (int, string) {
	s.t.Helper()
	req, err := http.NewRequest("GET", s.url+path, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Retry-After")
}

func TestAClientSendingUnknownKeysIsSlowedWith429WhileKnownKeysWork(t *testing.T) {
	t.Parallel()
	// One failure per 100 s after a burst of 3: nothing refills it while
	// the test runs.
	s := startServer(t, "--auth-failure-rate", "0.01", "--auth-failure-burst", "3")
	s.tenant("acme")
	var key struct{ Key string }
	s.must(201, "POST", "/v1/tenants/acme/api-keys", map[string]any{}, &key)
	if status, _ := s.get(key.Key, "/v1/tenants/acme/endpoints"); status != 200 {
		t.Fatalf("acme's key answered %d; want 200", status)
	}
	for i := range 3 {
		if status, _ := s.get("olk_guess-"+strconv.Itoa(i), "/v1/tenants/acme/endpoints"); status != 401 {
			t.Fatalf("unknown key %d of the burst answered %d; want 401", i+1, status)
		}
	}
	for i := range 20 {
		status, retry := s.get("olk_guess-more-"+strconv.Itoa(i), "/v1/tenants/acme/endpoints")
		if wait, err := strconv.Atoi(retry); status != 429 || err != nil || wait < 1 {
			t.Fatalf("unknown key %d past the burst answered %d, Retry-After %q; want 429 with a wait", i+1, status, retry)
		}
	}
	if status, _ := s.get(key.Key, "/v1/tenants/acme/endpoints"); status != 200 {
		t.Errorf("acme's key, from the same address, answered %d; want 200", status)
	}
	if status, _ := s.get(adminKey, "/v1/tenants/acme"); status != 200 {
		t.Errorf("the admin key answered %d; want 200", status)
	}
}
