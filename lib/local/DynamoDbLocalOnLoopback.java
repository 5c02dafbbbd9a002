// Starts DynamoDB Local exactly as its own main class would (same command-line options), except
// that its one HTTP connector listens on 127.0.0.1 instead of every interface. DynamoDB Local has
// no option for the address, and it has no authentication either: on any other interface anyone
// on the network could read the tables and write API keys.
//
// dynamodb-local.ts compiles it once with the JDK's javac and runs it with the emulator's jar on
// the class path. The Jetty server is a private field of
// DynamoDBProxyServer, set up (but not yet listening) by the time createServerFromCommandLineArgs
// returns; the connector's host is set before start() binds it.
import com.amazonaws.services.dynamodbv2.local.main.ServerRunner;
import com.amazonaws.services.dynamodbv2.local.server.DynamoDBProxyServer;
import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

public class DynamoDbLocalOnLoopback {
  private static final String LOOPBACK = "127.0.0.1";

  public static void main(String[] args) throws Exception {
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    Field serverField = DynamoDBProxyServer.class.getDeclaredField("server");
    serverField.setAccessible(true);
    Server jetty = (Server) serverField.get(proxy);
    Connector[] connectors = jetty.getConnectors();
    if (connectors.length == 0) throw new IllegalStateException("DynamoDB Local has no connector to bind to " + LOOPBACK);
    for (Connector connector : connectors) {
      // A connector of another kind could not be told where to listen: refuse to start rather than listen everywhere.
      if (!(connector instanceof ServerConnector)) {
        throw new IllegalStateException("Unexpected DynamoDB Local connector " + connector.getClass().getName());
      }
      ((ServerConnector) connector).setHost(LOOPBACK);
    }
    proxy.start();
  }
}
