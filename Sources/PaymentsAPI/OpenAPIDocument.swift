/// The API contract (`openapi.yaml`, OpenAPI 3.1) as served at `/openapi.yaml`: the file
/// itself, embedded in the binary by SwiftPM (`.embedInCode`), so a `paynode` copied
/// alone still serves it.
public enum OpenAPIDocument {
    public static let yaml = String(decoding: PackageResources.openapi_yaml, as: UTF8.self)
}
