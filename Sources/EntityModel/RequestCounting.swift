/// A service that sends requests over the network and counts them (the Web API client):
/// the run summary then reports these instead of the service requests the host made.
public protocol RequestCounting: AnyObject {
    /// Requests sent so far, retries included.
    var requestsSent: Int { get }
}
