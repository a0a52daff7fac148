// tag_index.cpp - in-memory tag index backing the asset browser filters.
#include <algorithm>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

namespace assets {

struct Asset {
    int id = 0;
    std::string name;
    std::vector<std::string> tags;
};

class TagIndex {
public:
    void add(Asset asset) {
        assets_.push_back(std::move(asset));
    }

    // Returns the ids of assets that carry every tag in `required`.
    std::vector<int> match_all(const std::vector<std::string>& required) const {
        std::vector<int> result;
        for (const Asset& asset : assets_) {
            const bool has_all = std::all_of(
                required.begin(), required.end(), [&asset](const std::string& tag) {
                    return std::find(asset.tags.begin(), asset.tags.end(), tag) !=
                           asset.tags.end();
                });
            if (has_all) {
                result.push_back(asset.id);
            }
        }
        return result;
    }

    // Returns every distinct tag, sorted, for the filter sidebar.
    std::vector<std::string> all_tags() const {
        std::vector<std::string> tags;
        std::unordered_set<std::string> seen;
        for (const Asset& asset : assets_) {
            for (const std::string& tag : asset.tags) {
                if (seen.insert(tag).second) {
                    tags.push_back(tag);
                }
            }
        }
        std::sort(tags.begin(), tags.end());
        return tags;
    }

    std::size_t size() const { return assets_.size(); }

private:
    std::vector<Asset> assets_;
};

}  // namespace assets
