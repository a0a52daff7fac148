// mesh_loader.cpp - load binary .mesh files into CPU-side upload buffers.
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace render {

struct MeshData {
    std::vector<float> positions;  // xyz per vertex
    std::vector<std::uint32_t> indices;
};

namespace {

template <typename T>
T read_pod(std::istream& in) {
    T value{};
    in.read(reinterpret_cast<char*>(&value), sizeof(T));
    if (!in) {
        throw std::runtime_error("truncated mesh header");
    }
    return value;
}

}  // namespace

MeshData load_mesh(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw std::runtime_error("cannot open mesh file: " + path);
    }

    const std::uint32_t vertex_count = read_pod<std::uint32_t>(in);
    const std::uint32_t index_count = read_pod<std::uint32_t>(in);
    const std::size_t float_count = static_cast<std::size_t>(vertex_count) * 3;

    MeshData mesh;
    mesh.positions.resize(float_count);
    mesh.indices.resize(index_count);

    in.read(reinterpret_cast<char*>(mesh.positions.data()), sizeof(float) * float_count);
    in.read(reinterpret_cast<char*>(mesh.indices.data()),
            sizeof(std::uint32_t) * index_count);
    if (!in) {
        throw std::runtime_error("truncated mesh body: " + path);
    }

    for (const std::uint32_t index : mesh.indices) {
        if (index >= vertex_count) {
            throw std::runtime_error("mesh index refers to missing vertex: " + path);
        }
    }
    return mesh;
}

}  // namespace render
