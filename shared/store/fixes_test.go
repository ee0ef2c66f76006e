package store_test

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/partnerportal/licenses/shared/access"
	"github.com/partnerportal/licenses/shared/store"
	"github.com/partnerportal/licenses/shared/testenv"
)

// DynamoDB refuses a BatchGetItem that names a key twice; the store must not
// send one, whatever its callers ask for.
func TestCallerRepeatedRole(t *testing.T) {
	doc := baseDoc()
	doc.Users[1].RoleIDs = []string{"role-a-read"} // u-read
	w := newWorld(t)
	ds := checked(t, doc)
	// The data set check refuses a role listed twice; put it in after.
	for i := range ds.Users {
		if ds.Users[i].ID == "u-read" {
			ds.Users[i].RoleIDs = []string{"role-a-read", "role-a-read"}
		}
	}
	if _, err := w.s.Import(w.ctx, ds, store.ImportOptions{Now: importNow}); err != nil {
		t.Fatal(err)
	}
	sc, err := w.s.Caller(w.ctx, "u-read")
	if err != nil {
		t.Fatalf("Caller: %v", err)
	}
	if sc.Level != access.Read {
		t.Errorf("level: got %s, want read", sc.Level)
	}
}

// Empty lists and maps are not stored: minidyn reads them back wrong, and a
// re-import would rewrite them every time.
func TestImportEmptyRolesAndPermissions(t *testing.T) {
	doc := baseDoc()
	doc.Users[2].RoleIDs = []string{}
	doc.Roles[2].Permissions = map[string]string{}
	doc.Users[1].RoleIDs = []string{"role-a-other", "role-a-read"}
	w := newWorld(t)
	w.loadDoc(doc, importNow)
	for _, u := range []string{"u-other", "u-read"} {
		if _, err := w.s.Caller(w.ctx, u); err != nil {
			t.Errorf("Caller(%s): %v", u, err)
		}
	}
	w.assertSettled(doc, importNow)
}

type failingWrites struct {
	*dynamodb.Client
	failAt int64
	n      atomic.Int64
}

func (f *failingWrites) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	if f.n.Add(1) == f.failAt {
		return nil, errors.New("injected failure")
	}
	return f.Client.BatchWriteItem(ctx, in, o...)
}

// An import that stops at any batch and is run again records every event
// once: no change goes without its event.
func TestImportRetriedAfterFailureKeepsHistory(t *testing.T) {
	opts := store.ImportOptions{Now: importNow, Writers: 1}
	for failAt := int64(1); failAt <= 12; failAt++ { // a whole import of baseDoc is about 12 batches
		f := &failingWrites{Client: testenv.DynamoDB(t), failAt: failAt}
		table := testenv.Table(t, f.Client)
		w := &world{t: t, ctx: context.Background(), s: store.New(f, table), db: f.Client, table: table}
		if _, err := w.s.Import(w.ctx, checked(t, baseDoc()), opts); err == nil {
			t.Fatalf("batch %d: the injected failure did not fail the import", failAt)
		}
		if _, err := w.s.Import(w.ctx, checked(t, baseDoc()), opts); err != nil {
			t.Fatal(err)
		}
		got := eventTypes(w.events(licMain))
		slices.Sort(got)
		if want := []string{"created", "partner_note_updated", "partner_note_updated"}; !slices.Equal(got, want) {
			t.Errorf("batch %d failed, then import again: events %v, want %v", failAt, got, want)
		}
	}
}

func TestNotFoundMatchesErrNotFound(t *testing.T) {
	w := loadBase(t)
	if _, _, err := w.s.License(w.ctx, "LIC-NONE"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("errors.Is(%v, store.ErrNotFound) = false", err)
	}
	if _, err := w.s.Organization(w.ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("errors.Is(%v, store.ErrNotFound) = false", err)
	}
}
