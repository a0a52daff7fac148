// lru_cache.cpp - bounded LRU cache for resolved DNS answers.
#include <cstddef>
#include <list>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

namespace netcache {

struct DnsAnswer {
    std::string address;
    unsigned ttl_seconds = 0;
};

class LruCache {
public:
    explicit LruCache(std::size_t capacity) : capacity_(capacity) {}

    std::optional<DnsAnswer> get(const std::string& host) {
        auto it = index_.find(host);
        if (it == index_.end()) {
            return std::nullopt;
        }
        return it->second->second;
    }

    void put(const std::string& host, DnsAnswer answer) {
        if (capacity_ == 0) {
            return;
        }
        if (entries_.size() >= capacity_) {
            index_.erase(entries_.back().first);
            entries_.pop_back();
        }
        entries_.emplace_front(host, std::move(answer));
        index_[host] = entries_.begin();
    }

    bool erase(const std::string& host) {
        auto it = index_.find(host);
        if (it == index_.end()) {
            return false;
        }
        entries_.erase(it->second);
        index_.erase(it);
        return true;
    }

    std::size_t size() const { return entries_.size(); }

private:
    using Entry = std::pair<std::string, DnsAnswer>;

    std::size_t capacity_;
    std::list<Entry> entries_;  // front = most recently used
    std::unordered_map<std::string, std::list<Entry>::iterator> index_;
};

}  // namespace netcache
