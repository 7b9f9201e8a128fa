package netcds.hapi;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.api.RestOperationTypeEnum;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.AuthenticationException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * Demands one static bearer token, so the tests prove the service forwards its token. The
 * public sandbox is open; this is the only behaviour of the test server that HAPI does not have.
 * /metadata stays open, as on servers that advertise their SMART endpoints there.
 */
@Interceptor
final class BearerTokenInterceptor {

	private final byte[] expected;

	BearerTokenInterceptor(String token) {
		this.expected = ("Bearer " + token).getBytes(StandardCharsets.UTF_8);
	}

	@Hook(Pointcut.SERVER_INCOMING_REQUEST_POST_PROCESSED)
	public boolean check(RequestDetails request) {
		if (request.getRestOperationType() == RestOperationTypeEnum.METADATA) {
			return true;
		}
		String header = request.getHeader("Authorization");
		byte[] given = header == null ? new byte[0] : header.getBytes(StandardCharsets.UTF_8);
		if (!MessageDigest.isEqual(expected, given)) {
			throw new AuthenticationException("Missing or invalid bearer token");
		}
		return true;
	}
}
