// frame_reader.cpp - parse length-prefixed frames from the replication socket.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace repl {

struct Frame {
    std::uint8_t type = 0;
    std::string key;
    std::vector<std::uint8_t> payload;
};

// Wire format (big endian): type:u8 key_len:u16 key payload_len:u32 payload
class FrameReader {
public:
    static constexpr std::uint32_t kMaxPayload = 16u * 1024u * 1024u;

    FrameReader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}

    // Returns the next frame, or std::nullopt once the buffer is exhausted.
    std::optional<Frame> next() {
        if (pos_ >= size_) {
            return std::nullopt;
        }

        Frame frame;
        frame.type = data_[pos_++];

        const std::uint16_t key_len = read_u16();
        require(key_len);
        frame.key.assign(reinterpret_cast<const char*>(data_ + pos_), key_len);
        pos_ += key_len;

        const std::uint32_t payload_len = read_u32();
        if (payload_len > kMaxPayload) {
            throw std::runtime_error("replication frame payload too large");
        }
        require(payload_len);
        frame.payload.assign(data_ + pos_, data_ + pos_ + payload_len);
        pos_ += payload_len;
        return frame;
    }

private:
    void require(std::size_t n) const {
        if (size_ - pos_ < n) {
            throw std::runtime_error("truncated replication frame");
        }
    }

    std::uint16_t read_u16() {
        require(2);
        const auto value = static_cast<std::uint16_t>((data_[pos_] << 8) | data_[pos_ + 1]);
        pos_ += 2;
        return value;
    }

    std::uint32_t read_u32() {
        require(4);
        std::uint32_t value = 0;
        for (int i = 0; i < 4; ++i) {
            value = (value << 8) | data_[pos_ + i];
        }
        pos_ += 4;
        return value;
    }

    const std::uint8_t* data_;
    std::size_t size_;
    std::size_t pos_ = 0;
};

}  // namespace repl
