package report

import (
	"slices"
	"strings"

	"github.com/partnerportal/licenses/shared/license"
)

// Overview is what the page's charts and numbers show: counts over every
// license of the selection, expired ones included, whatever the lists filter.
type Overview struct {
	Products      Summary `json:"products"`
	CloudServices Summary `json:"cloudServices"`
}

// Summary counts the rows of one category.
type Summary struct {
	Total     int            `json:"total"`
	ByStatus  StatusCounts   `json:"byStatus"`
	ByType    TypeCounts     `json:"byType"`
	ByProduct []ProductCount `json:"byProduct"`
	// Deployed and Purchased sum the instances of on-prem licenses; they are
	// nil for cloud services.
	Deployed  *int `json:"deployed,omitempty"`
	Purchased *int `json:"purchased,omitempty"`
}

// StatusCounts counts rows by status.
type StatusCounts struct {
	Active   int `json:"active"`
	Expiring int `json:"expiring"`
	Expired  int `json:"expired"`
}

// TypeCounts counts rows by license type.
type TypeCounts struct {
	Evaluation int `json:"evaluation"`
	Purchased  int `json:"purchased"`
}

// ProductCount counts the rows of one product.
type ProductCount struct {
	ProductID   string `json:"productId"`
	ProductName string `json:"productName"`
	Total       int    `json:"total"`
}

// Summarize counts rows of one category. Products are listed by name.
func Summarize(rows []Row, category license.Category) Summary {
	var s Summary
	byProduct := make(map[string]*ProductCount)
	deployed, purchased := 0, 0
	for i := range rows {
		r := &rows[i]
		s.Total++
		switch r.Status {
		case license.Active:
			s.ByStatus.Active++
		case license.Expiring:
			s.ByStatus.Expiring++
		case license.Expired:
			s.ByStatus.Expired++
		}
		switch r.Type {
		case license.Evaluation:
			s.ByType.Evaluation++
		case license.Purchased:
			s.ByType.Purchased++
		}
		pc := byProduct[r.ProductID]
		if pc == nil {
			pc = &ProductCount{ProductID: r.ProductID, ProductName: r.ProductName}
			byProduct[r.ProductID] = pc
		}
		pc.Total++
		deployed += r.Deployed
		purchased += r.Purchased
	}
	s.ByProduct = make([]ProductCount, 0, len(byProduct))
	for _, pc := range byProduct {
		s.ByProduct = append(s.ByProduct, *pc)
	}
	slices.SortFunc(s.ByProduct, func(a, b ProductCount) int {
		if c := strings.Compare(a.ProductName, b.ProductName); c != 0 {
			return c
		}
		return strings.Compare(a.ProductID, b.ProductID)
	})
	if category == license.OnPrem {
		s.Deployed, s.Purchased = &deployed, &purchased
	}
	return s
}

// Overviews counts both lists.
func Overviews(onPrem, cloud []Row) Overview {
	return Overview{Products: Summarize(onPrem, license.OnPrem), CloudServices: Summarize(cloud, license.CloudService)}
}
