package dataset_test

import (
	"github.com/partnerportal/licenses/shared/access"
	"github.com/partnerportal/licenses/shared/dataset"
)

func mapOrgs(ds *dataset.Dataset) map[string]*access.Organization {
	m := make(map[string]*access.Organization)
	for i := range ds.Organizations {
		m[ds.Organizations[i].ID] = &ds.Organizations[i]
	}
	return m
}
