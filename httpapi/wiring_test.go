package httpapi_test

import (
	"testing"

	"github.com/outlethq/outlet"
	"github.com/outlethq/outlet/httpapi"
	"github.com/outlethq/outlet/outlettest"
)

func init() {
	httpapi.StartServer = func(t testing.TB, adminKey string, configure func(*httpapi.Config)) (string, *httpapi.Server, outlet.Store) {
		srv := outlettest.Start(t, func(o *outlettest.Options) {
			o.AdminKey = adminKey
			o.TuneAPI = configure
		})
		return srv.URL, srv.API, srv.Store
	}
}
