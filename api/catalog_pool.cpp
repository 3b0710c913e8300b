#include "api/catalog_pool.hpp"

namespace photodrop::api {

CatalogPool::Lease CatalogPool::borrow() {
    {
        std::lock_guard lock(mutex_);
        if (!idle_.empty()) {
            auto catalog = std::move(idle_.back());
            idle_.pop_back();
            return Lease(*this, std::move(catalog));
        }
    }
    return Lease(*this, open_catalog(location_));
}

void CatalogPool::give_back(std::unique_ptr<Catalog> catalog) {
    std::lock_guard lock(mutex_);
    idle_.push_back(std::move(catalog));
}

}  // namespace photodrop::api
