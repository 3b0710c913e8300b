#pragma once
// Catalog connections for the server's threads. A catalog instance is not
// thread-safe: a request borrows one for its duration. Connections are made
// as needed, at most one per thread that asks at once, and kept.

#include "catalog/catalog.hpp"

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace photodrop::api {

class CatalogPool {
public:
    explicit CatalogPool(std::string location) : location_(std::move(location)) {}

    class Lease {
    public:
        Lease(CatalogPool& pool, std::unique_ptr<Catalog> catalog) : pool_(pool), catalog_(std::move(catalog)) {}
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        ~Lease() {
            if (catalog_) pool_.give_back(std::move(catalog_));
        }
        ApiCatalog* operator->() { return catalog_.get(); }
        ApiCatalog& operator*() { return *catalog_; }
        // After an engine failure the connection may be broken: it is not given back.
        void discard() { catalog_.reset(); }

    private:
        CatalogPool& pool_;
        std::unique_ptr<Catalog> catalog_;
    };

    // A connection of its own until the lease ends; throws what open_catalog throws.
    Lease borrow();

private:
    void give_back(std::unique_ptr<Catalog> catalog);

    const std::string location_;
    std::mutex mutex_;  // protects idle_
    std::vector<std::unique_ptr<Catalog>> idle_;
};

}  // namespace photodrop::api
